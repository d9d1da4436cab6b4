"""The README's two set-up commands, and the first one's promise: demo jobs visibly flow."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_exactly_two_commands():
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert ".venv/bin/djq start" in makefile.split("demo:")[1].split("\n\n")[0]
    assert "pytest" in makefile.split("test:")[1].split("\n\n")[0]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.e2e
def test_demo_shows_jobs_succeeding_failing_and_running_on_schedule(tmp_path):
    """What `make demo` runs: the embedded default with its demo workload."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJQ_DATABASE_URL")}
    env["DJQ_HOME"] = str(tmp_path / "home")
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "djq"), "start"], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    wanted = {
        "succeeded": re.compile(r"djq_cli\.demo\.greet finished"),
        "failed": re.compile(r"djq_cli\.demo\.flaky failed"),
        "scheduled ran": re.compile(r"djq_cli\.demo\.report finished"),
    }
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            text = log.read_text()
            if all(p.search(text) for p in wanted.values()):
                break
            assert proc.poll() is None, f"djq start exited early:\n{text}"
            time.sleep(0.2)
        missing = [name for name, p in wanted.items() if not p.search(log.read_text())]
        assert not missing, f"never saw {missing} in:\n{log.read_text()}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()
