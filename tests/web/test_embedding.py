"""The runtime embedded in real servers: uvicorn (ASGI lifespan) and gunicorn (one supervisor per host)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.web.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.vendors("sqlite", "postgresql")]
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what: str, timeout: float = 60.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()
    except OSError:
        return None


def supervisors(alias: str) -> list:
    from djq.ops.health import list_processes

    return [p for p in list_processes(alias) if p.kind == "supervisor"]


def env(alias: str, **extra) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.web.settings", "DJQ_TEST_BACKEND": alias,
            "DJQ_TEST_PUBLIC": "1", "DJQ_TEST_LOG": "WARNING", "PYTHONDONTWRITEBYTECODE": "1", **extra}


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10)


@pytest.mark.parametrize("app_lifespan", [True, False], ids=["app-with-lifespan", "plain-django"])
def test_uvicorn_lifespan_starts_and_stops_the_runtime(alias, backend, tmp_path, app_lifespan):
    from tests import tasks

    events = tmp_path / "events"
    port = free_port()
    extra = {"DJQ_TEST_EVENTS": str(events)} if app_lifespan else {}
    log = open(tmp_path / "uvicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([str(BIN / "uvicorn"), "tests.web.asgi:application", "--host", "127.0.0.1",
                             "--port", str(port), "--lifespan", "on", "--no-access-log"],
                            cwd=ROOT, env=env(alias, **extra), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/pid"), "uvicorn to serve", proc=proc)
        [sup] = wait_until(lambda: supervisors(alias), "the embedded supervisor to register", proc=proc)
        assert sup.pid == proc.pid and sup.metadata.get("mode") == "async"
        result = tasks.add.using(backend=alias).enqueue(20, 22)
        done = wait_until(lambda: (r := backend.get_result(result.id)).is_finished and r, "the job to run")
        assert done.return_value == 42
        assert '"backend"' in get(f"http://127.0.0.1:{port}/djq/stats.json?backend={alias}")
        if app_lifespan:
            assert events.read_text().split() == ["startup"]
        assert stop(proc) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    finally:
        stop(proc, signal.SIGKILL)
        log.close()
    output = (tmp_path / "uvicorn.log").read_text()
    assert "Application startup complete" in output and "Application shutdown complete" in output, output
    assert supervisors(alias) == []
    from djq.ops.health import list_processes

    assert list_processes(alias) == []  # the runtime deregistered everything on shutdown
    if app_lifespan:
        assert events.read_text().split() == ["startup", "shutdown"]


def test_gunicorn_recycles_workers_while_one_supervisor_drains_the_queue(alias, backend, tmp_path):
    from tests import tasks

    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "tests/web/gunicorn_conf.py"),
                             "-b", f"127.0.0.1:{port}", "tests.web.wsgi:application"],
                            cwd=ROOT, env=env(alias, DJQ_GUNICORN_LOCK=str(tmp_path / "djq.lock")),
                            stdout=log, stderr=subprocess.STDOUT)
    most_supervisors = 0
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/pid"), "gunicorn to serve", proc=proc)
        wait_until(lambda: supervisors(alias), "one worker to run the runtime", proc=proc)
        served_by: set[int] = set()
        supervisor_pids: set[int] = set()
        ids = []
        for round_ in range(8):
            ids += [int(tasks.add.using(backend=alias).enqueue(round_, n).id) for n in range(5)]
            for _ in range(6):
                answer = get(f"http://127.0.0.1:{port}/pid")
                if answer:
                    served_by.add(int(answer))
            live = [s for s in supervisors(alias) if s.alive]
            most_supervisors = max(most_supervisors, len(live))
            supervisor_pids |= {s.pid for s in live}
        assert len(served_by) > 3, "max_requests should have recycled the workers"

        def drained():
            nonlocal most_supervisors
            live = [s for s in supervisors(alias) if s.alive]
            most_supervisors = max(most_supervisors, len(live))
            supervisor_pids.update(s.pid for s in live)
            return all(backend.get_result(i).is_finished for i in ids)

        wait_until(drained, "every job to finish across worker recycling", timeout=120)
        assert most_supervisors == 1
        assert len({s.hostname for s in supervisors(alias)}) <= 1
    finally:
        code = stop(proc)
        log.close()
    assert code == 0, (tmp_path / "gunicorn.log").read_text()[-5000:]
    assert supervisors(alias) == []
