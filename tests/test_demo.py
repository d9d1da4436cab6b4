"""The first minute: `make demo` installs only what it needs and shows how to watch it (issue 9, items 21, 22)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.cli.conftest import DJQ, ROOT, run_djq, subprocess_env
from tests.runtime.harness import wait_until


def bootstrap_plan(*args: str) -> str:
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap.sh"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "DJQ_BOOTSTRAP_DRY_RUN": "1"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_item_21_the_demo_installs_no_extras_and_the_tests_install_them_all():
    demo, test = bootstrap_plan("demo"), bootstrap_plan()

    assert demo == "would run: pip install -e .\n"
    assert "MariaDB" not in demo
    assert "would run: pip install -e .[dev,postgres,mysql,prometheus]" in test
    assert "MariaDB client headers" in test
    make_demo = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    make_test = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert "scripts/bootstrap.sh demo" in make_demo.stdout
    assert "scripts/bootstrap.sh\n" in make_test.stdout


@pytest.mark.e2e
def test_item_22_the_demo_says_how_to_watch_it_and_its_delayed_jobs_show_as_scheduled(tmp_path):
    env = subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_TEST_DATABASES=None, PYTHONPATH=None,
                         DJQ_HOME=str(tmp_path / "home"), DJQ_TEST_LOG=None)
    log = tmp_path / "demo.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(DJQ), "start"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        wait_until(lambda: "scheduled to run at" in log.read_text(), 60, "the demo to schedule a report")
        scheduled = run_djq("jobs", "list", "--state", "scheduled", env=env)
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()

    assert "From another terminal, look at it with:" in text
    assert f"    {DJQ} status" in text or "    .venv/bin/djq status" in text
    assert scheduled.exit_code == 0, scheduled.stderr
    assert "djq_cli.demo.report\tscheduled" in scheduled.stdout
