"""The CLI with any option values: exit 0 with a job that round-trips, or one `djq: error:` line (item 14)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli.conftest import invoke
from tests.properties.strategies import argv_text, json_like

json_text = st.one_of(json_like.map(lambda v: json.dumps(v, allow_nan=True)), argv_text,
                      st.sampled_from(["[NaN]", "[" * 5000 + "]" * 5000, "[1e999]", "{}", "[]", '{"a": 1}']))
durations = st.one_of(argv_text, st.from_regex(r"\A\+?[0-9]{1,16}(\.[0-9]{1,3})?[smhdw]?\Z"))


def _contract(run) -> None:
    assert run.exit_code in (0, 1, 2), run
    assert "Traceback" not in run.stderr
    if run.exit_code:
        lines = run.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("djq: error: "), run.stderr
        assert len(lines[0]) < 1200


@pytest.mark.vendors("sqlite", "postgresql")
@given(args=json_text, kwargs=json_text, queue=st.one_of(st.none(), argv_text),
       run_after=st.one_of(st.none(), durations), priority=st.one_of(st.none(), st.integers(-100, 100)))
def test_item14_djq_enqueue(alias, args, kwargs, queue, run_after, priority):
    argv = ["--backend", alias, "--json", "enqueue", "tests.tasks.echo", "--args", args, "--kwargs", kwargs]
    for option, value in (("--queue", queue), ("--run-after", run_after), ("--priority", priority)):
        if value is not None:
            argv += [option, str(value)]
    run = invoke(argv)
    _contract(run)
    if run.exit_code == 0:
        job_id = str(json.loads(run.stdout)["id"])
        job = json.loads(invoke(["--backend", alias, "--json", "jobs", "show", job_id]).stdout)
        assert job["args"] == json.loads(args) and job["kwargs"] == json.loads(kwargs)


@pytest.mark.vendors("sqlite")
@given(older=durations, failed=durations)
def test_item14_djq_prune_durations(alias, older, failed):
    _contract(invoke(["--backend", alias, "prune", "--older-than", older, "--failed-older-than", failed, "--dry-run"]))


@pytest.mark.vendors("sqlite")
@given(at=durations)
def test_item14_djq_jobs_retry_at(alias, at):
    _contract(invoke(["--backend", alias, "jobs", "retry", "--all", "--at", at, "--yes"]))
