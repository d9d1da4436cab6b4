"""Work that can never run is refused before anything is stored; unknown queues are errors (issue 9, items 1, 3)."""

from __future__ import annotations

import pytest

from djq.models import Job
from tests.cli.conftest import enqueue, run_djq, subprocess_env
from tests.cli.test_standalone import database_url

pytestmark = pytest.mark.vendors("sqlite")


@pytest.mark.parametrize("argv, error", [
    (["tests.tasks.ad", "--args", "[1, 2]"],
     "djq: error: no task 'ad' in module 'tests.tasks' (did you mean 'add'?)\n"),
    (["tests.taskz.add"],
     "djq: error: cannot import task 'tests.taskz.add': no module named 'tests.taskz' (did you mean 'tests.tasks'?)\n"),
    (["nosuch.module.task"], "djq: error: cannot import task 'nosuch.module.task': no module named 'nosuch'\n"),
    (["tests.tasks.mark_started", "--args", '["x"]'],
     "djq: error: 'tests.tasks.mark_started' is a function, not a task; decorate it with @task\n"),
    (["tests.tasks.add", "--args", "[1, 2, 3]"],
     "djq: error: tests.tasks.add(a: int, b: int) -> int cannot take these arguments: too many positional arguments\n"),
    (["tests.tasks.add", "--kwargs", '{"a": 1, "c": 2}'],
     "djq: error: tests.tasks.add(a: int, b: int) -> int cannot take these arguments: "
     "missing a required argument: 'b'\n"),
])
def test_item_1_enqueue_refuses_what_can_never_run_with_the_code_importable(alias, argv, error):
    run = run_djq("--backend", alias, "enqueue", *argv)

    assert (run.exit_code, run.stdout, run.stderr) == (1, "", error)
    assert not Job.objects.using(alias).exists()


def test_item_1_a_good_call_is_stored(alias):
    run = run_djq("--backend", alias, "enqueue", "tests.tasks.add", "--args", "[1, 2]")

    assert run.exit_code == 0, run.stderr
    assert Job.objects.using(alias).get().id == int(run.stdout)


def test_item_1_standalone_enqueue_stores_by_path_and_says_it_was_not_checked(alias, tmp_path):
    env = subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_TEST_DATABASES=None, PYTHONPATH=None,
                         DJQ_DATABASE_URL=database_url(alias))

    run = run_djq("enqueue", "shop.tasks.send_receipt", "--args", "[1, 2, 3]", env=env, cwd=tmp_path)

    assert run.exit_code == 0, run.stderr
    assert Job.objects.using(alias).get().task_path == "shop.tasks.send_receipt"
    assert run.stderr.startswith("djq: warning: shop.tasks.send_receipt could not be checked")
    assert "stored by path" in run.stderr and len(run.stderr.splitlines()) == 1


def test_item_3_an_unknown_queue_is_exit_1_with_a_hint(alias):
    enqueue(alias, queue="emails")

    paused = run_djq("--backend", alias, "queues", "pause", "emials")
    shown = run_djq("--backend", alias, "queues", "show", "emials")
    resumed = run_djq("--backend", alias, "queues", "resume", "nosuchqueue")

    for run in (paused, shown, resumed):
        assert run.exit_code == 1 and run.stdout == ""
        assert len(run.stderr.splitlines()) == 1, run.stderr
    assert paused.stderr == ("djq: error: no queue 'emials' in backend 'default' (did you mean 'emails'?); "
                             "pause it ahead of its first job with --create\n")
    assert shown.stderr.startswith("djq: error: no queue 'emials' in backend 'default' (did you mean 'emails'?)")
    from djq.models import Pause

    assert not Pause.objects.using(alias).exists()


def test_item_3_create_pauses_a_queue_ahead_of_its_first_job(alias):
    created = run_djq("--backend", alias, "queues", "pause", "reports", "--create")
    again = run_djq("--backend", alias, "queues", "pause", "reports")
    shown = run_djq("--backend", alias, "queues", "show", "reports")

    assert created.exit_code == 0, created.stderr
    assert created.stderr == "paused reports\n"
    assert again.exit_code == 0 and "already paused" in again.stderr
    assert shown.exit_code == 0 and "paused\tyes" in shown.stdout
