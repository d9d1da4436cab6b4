"""py-spy recording of a runtime (or of the measuring process) and a top-functions digest."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy_executable() -> str:
    return str(Path(sys.executable).with_name("py-spy"))


def start(pid: int, out: Path, *, subprocesses: bool = True, gil: bool = False, rate: int = 100):
    """Sample ``pid`` (and its children) until it exits or ``finish`` is called."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [py_spy_executable(), "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
           "--output", str(out), "--nonblocking"]
    if subprocesses:
        cmd.append("--subprocesses")
    if gil:
        cmd.append("--gil")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """py-spy writes its file when the target exits or on SIGINT."""
    if proc.poll() is None:
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path.rsplit('/', 2)[-2] + '/' if '/' in path else ''}{path.rsplit('/', 1)[-1]})"


def kinds_file(profile: Path) -> Path:
    return profile.with_name(profile.stem + ".kinds.json")


def top(path: Path, limit: int = 25, process_filter: str | None = None) -> str:
    """Self and inclusive sample shares per function, per sampled process.

    Forked children keep their parent's command line in py-spy's labels, so
    the process kinds recorded during the run (``<profile>.kinds.json``, pid ->
    kind) name them when present.
    """
    import json

    kinds = {}
    if kinds_file(path).exists():
        kinds = {int(k): v for k, v in json.loads(kinds_file(path).read_text()).items()}
    per_process: dict[str, tuple[Counter, Counter, list[int]]] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        process = "all"
        while frames and frames[0].startswith("process "):
            process, frames = frames[0], frames[1:]
        m = re.match(r"process (\d+):", process)
        if m and int(m.group(1)) in kinds:
            process = f"{kinds[int(m.group(1))]} (pid {m.group(1)})"
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        if process_filter and process_filter not in process:
            continue
        self_c, incl_c, total = per_process.setdefault(process, (Counter(), Counter(), [0]))
        n = int(count)
        total[0] += n
        names = [_short(f) for f in frames]
        if names:
            self_c[names[-1]] += n
        for name in set(names):
            incl_c[name] += n
    lines = []
    for process, (self_c, incl_c, total) in sorted(per_process.items(), key=lambda kv: -kv[1][2][0]):
        t = total[0] or 1
        lines.append(f"== {process[:120]}  ({total[0]} samples)")
        lines.append("  self%  incl%  function")
        for name, n in self_c.most_common(limit):
            lines.append(f"  {100 * n / t:5.1f}  {100 * incl_c[name] / t:5.1f}  {name}")
        lines.append("  -- by inclusive share --")
        for name, n in incl_c.most_common(limit):
            lines.append(f"  {100 * self_c[name] / t:5.1f}  {100 * n / t:5.1f}  {name}")
    return "\n".join(lines)


def focus(path: Path, function: str, depth: int = 2, process_filter: str | None = None, limit: int = 30) -> str:
    """Where the samples under ``function`` go: its callees ``depth`` levels down, by share of its samples."""
    import json

    kinds = {}
    if kinds_file(path).exists():
        kinds = {int(k): v for k, v in json.loads(kinds_file(path).read_text()).items()}
    under = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        process = "all"
        while frames and frames[0].startswith("process "):
            process, frames = frames[0], frames[1:]
        m = re.match(r"process (\d+):", process)
        if m and int(m.group(1)) in kinds:
            process = kinds[int(m.group(1))]
        if process_filter and process_filter not in process:
            continue
        names = [_short(f) for f in frames]
        idx = next((k for k, n in enumerate(names) if n.startswith(function + " ")), None)
        if idx is None:
            continue
        n = int(count)
        total += n
        under[" > ".join(names[idx + 1: idx + 1 + depth]) or "(self)"] += n
    lines = [f"{total} samples under {function}"]
    for path_, n in under.most_common(limit):
        lines.append(f"  {100 * n / (total or 1):5.1f}%  {path_}")
    return "\n".join(lines)
