"""Process titles say what each runtime process is."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.vendors("sqlite")]


def title(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def test_every_process_names_itself(alias, start_runtime):
    runtime = start_runtime()
    runtime.wait_ready("worker", "dispatcher")
    assert title(runtime.pid).startswith("djq: supervisor [default]")
    [worker] = runtime.pids_of("worker")
    [dispatcher] = runtime.pids_of("dispatcher")
    assert title(worker).startswith("djq: worker-1 [default]")
    assert title(dispatcher).startswith("djq: dispatcher-1 [default]")
