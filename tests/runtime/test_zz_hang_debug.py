import signal, subprocess, time
import pytest
from tests.runtime.harness import wait_until

@pytest.mark.parametrize("n", range(40))
def test_hang(alias, start_runtime, n):
    runtime = start_runtime(options={"shutdown_timeout": 30})
    wait_until(lambda: runtime.kinds().get("supervisor"), 20, "sup", interval=0.005)
    runtime.send(signal.SIGTERM)
    try:
        assert runtime.proc.wait(6) == 0
    except subprocess.TimeoutExpired:
        kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(runtime.pid)], capture_output=True, text=True).stdout.split()
        for k in kids:
            bt = subprocess.run(["gdb", "-p", k, "-batch", "-ex", "source /root/.pyenv/versions/3.13.0/bin/python3.13-gdb.py", "-ex", "py-bt"], capture_output=True, text=True)
            print("\nHANG", k, "\n", bt.stdout[-8000:], bt.stderr[-2000:])
        raise
    assert "did not stop" not in runtime.log()
