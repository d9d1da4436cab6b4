"""`djq start` without the application's code never fails the jobs it cannot run (issue 9, item 2)."""

from __future__ import annotations

import signal
import subprocess

import pytest

from djq.models import Job
from tests.cli.conftest import DJQ, run_djq, subprocess_env
from tests.cli.test_standalone import database_url
from tests.runtime.harness import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.vendors("sqlite")]


def standalone_env(alias):
    return subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_TEST_DATABASES=None, PYTHONPATH=None,
                          DJQ_DATABASE_URL=database_url(alias), DJQ_TEST_LOG=None)


def test_item_2_standalone_start_refuses_workers_at_start_up(alias, tmp_path):
    run = run_djq("start", env=standalone_env(alias), cwd=tmp_path)

    assert run.exit_code == 2
    assert len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith("djq: error: standalone mode (--database-url without --settings) has no "
                                 "application code, so its workers could not run any job; add --only-dispatch")


def test_item_2_a_worker_without_the_code_hands_the_job_back_and_stops_claiming(alias, backend, tmp_path):
    from tests import tasks

    job = tasks.add.using(backend=alias).enqueue(1, 2)
    Job.objects.using(alias).filter(id=job.id).update(task_path="shop.tasks.send_receipt")
    log = tmp_path / "runtime.log"
    empty = tmp_path / "no-code"
    empty.mkdir()
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(DJQ), "--pythonpath", str(empty), "start", "--mode", "async",
                                 "--skip-recurring"], cwd=tmp_path, env=standalone_env(alias),
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        wait_until(lambda: "stopped claiming" in log.read_text(), 60, "the worker to stop claiming")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()

    row = Job.objects.using(alias).values("state", "attempts", "process_id", "worker_id").get(id=job.id)
    assert row == {"state": "ready", "attempts": [], "process_id": None, "worker_id": None}
    errors = [line for line in text.splitlines() if "ERROR" in line]
    assert len(errors) == 1, text
    assert ("stopped claiming: cannot import task 'shop.tasks.send_receipt': no module named 'shop', so this "
            "runtime does not have the application's code; released 1 job(s) back to ready, untouched "
            f"({job.id})") in errors[0]
