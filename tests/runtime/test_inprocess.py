"""The runtime inside the test process: lifecycle hooks (async supervisor) and Django's task signals (worker).

Hooks and signal receivers are Python callables, so these run the real
runtime classes on threads of this process instead of a `djq start`.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.tasks.base import TaskResultStatus
from django.tasks.signals import task_finished, task_started

from djq import hooks
from djq.config import get_config
from djq.models import Process
from djq.runtime.launch import build_supervisor
from djq.runtime.worker import Worker
from tests import tasks
from tests.runtime.harness import wait_for_states, wait_until

pytestmark = pytest.mark.e2e

#: What ``on_thread_error`` received (it is configured by dotted path, so it lives at module level).
THREAD_ERRORS: list[BaseException] = []


def record_thread_error(exc: BaseException) -> None:
    THREAD_ERRORS.append(exc)


class HookFailed(Exception):
    pass


@pytest.fixture
def hook_registry():
    hooks.clear_hooks()
    THREAD_ERRORS.clear()
    yield
    hooks.clear_hooks()
    THREAD_ERRORS.clear()


def in_thread(target, name: str) -> threading.Thread:
    """Run ``target`` on a thread that closes its database connections when done."""

    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def test_hooks_fire_in_order_and_failures_go_to_on_thread_error(alias, backend, hook_registry):
    calls: list[tuple[str, str]] = []

    def hook(label, fail=False):
        def call(process):
            calls.append((label, process.kind))
            if fail:
                raise HookFailed(label)
        return call

    hooks.on_start(hook("start-1"))
    hooks.register_hook("supervisor.start")(hook("start-2", fail=True))
    hooks.on_start(hook("start-3"))
    hooks.on_worker_start(hook("worker-start", fail=True))
    hooks.on_worker_stop(hook("worker-stop"))
    hooks.on_worker_exit(hook("worker-exit"))
    hooks.on_dispatcher_start(hook("dispatcher-start"))
    hooks.on_stop(hook("stop-1"))
    hooks.on_stop(hook("stop-2"))
    hooks.on_exit(hook("exit-1"))

    config = get_config(alias).with_options(mode="async", on_thread_error=f"{__name__}.record_thread_error")
    supervisor = build_supervisor(config, skip_recurring=True, standalone=False)
    thread = in_thread(supervisor.run, "supervisor")
    wait_until(lambda: {"worker-start", "dispatcher-start"} <= {label for label, _ in calls}, 15,
               f"the runners' start hooks; calls so far: {calls}")

    # A failing hook stops neither the next hook nor the runtime.
    job = tasks.add.using(backend=alias).enqueue(3, 4)
    wait_for_states(alias, [job.id], ("finished",))
    assert backend.get_result(job.id).return_value == 7

    supervisor.stop()
    thread.join(15)
    assert not thread.is_alive()

    labels = [label for label, _ in calls]
    assert labels[:3] == ["start-1", "start-2", "start-3"]
    assert labels[-3:] == ["stop-1", "stop-2", "exit-1"]
    assert labels.index("worker-start") < labels.index("worker-stop") < labels.index("worker-exit") < \
        labels.index("stop-1")
    assert sorted(labels) == sorted(["start-1", "start-2", "start-3", "worker-start", "worker-stop", "worker-exit",
                                     "dispatcher-start", "stop-1", "stop-2", "exit-1"])
    assert dict(calls)["start-1"] == "supervisor" and dict(calls)["worker-exit"] == "worker"
    assert sorted(str(e) for e in THREAD_ERRORS) == ["start-2", "worker-start"]
    assert all(isinstance(e, HookFailed) for e in THREAD_ERRORS)
    assert not Process.objects.using(alias).exists()


def test_task_signals_fire_after_the_outcome_is_committed(alias, backend):
    started: list[tuple[str, TaskResultStatus]] = []
    finished: list[tuple[str, TaskResultStatus, TaskResultStatus]] = []
    seen = threading.Event()

    def on_started(sender, task_result, **kwargs):
        started.append((task_result.id, task_result.status))

    def on_finished(sender, task_result, **kwargs):
        try:
            stored = backend.get_result(task_result.id).status
        finally:
            connections[alias].close()  # this receiver's thread has no other use for it
        finished.append((task_result.id, task_result.status, stored))
        if len(finished) >= 2:
            seen.set()

    config = get_config(alias)
    worker = Worker(config, config.workers[0], name="worker-signals")
    task_started.connect(on_started, dispatch_uid="djq-e2e-started")
    task_finished.connect(on_finished, dispatch_uid="djq-e2e-finished")
    thread = in_thread(worker.run, "worker-signals")
    try:
        ok = tasks.add.using(backend=alias).enqueue(2, 2)
        bad = tasks.fail.using(backend=alias).enqueue("nope")
        assert seen.wait(15), f"task_finished fired for {finished}"
        assert Process.objects.using(alias).filter(kind="worker", name="worker-signals").count() == 1
    finally:
        worker.stop()
        thread.join(15)
        task_started.disconnect(dispatch_uid="djq-e2e-started")
        task_finished.disconnect(dispatch_uid="djq-e2e-finished")
    assert not thread.is_alive()

    assert sorted(started) == sorted([(ok.id, TaskResultStatus.RUNNING), (bad.id, TaskResultStatus.RUNNING)])
    assert sorted(finished) == sorted([
        (ok.id, TaskResultStatus.SUCCESSFUL, TaskResultStatus.SUCCESSFUL),
        (bad.id, TaskResultStatus.FAILED, TaskResultStatus.FAILED),
    ])
    assert not Process.objects.using(alias).exists()
