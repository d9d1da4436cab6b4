"""The real ``djq tui`` on a pseudo-terminal (80x24): with a settings module, standalone and embedded; q quits.

Also: the other commands never import Textual.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from tests.cli.conftest import DJQ, ROOT, run_djq, subprocess_env

ESCAPES = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]"  # CSI
                     r"|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\"  # OSC, DCS and friends
                     r"|[()][0-9A-Za-z]|.)")


class Terminal:
    """A child on a pty; ``wait_for`` reads until the screen text shows a string."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen([str(DJQ), *args], cwd=ROOT, env={**env, "TERM": "xterm-256color"},
                                     stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        return ESCAPES.sub("", self.raw.decode(errors="replace"))

    def read(self, timeout: float = 0.1) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.raw += os.read(self.master, 65536)
            except OSError:
                pass

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.text)
        while needle not in self.text[start:] and needle not in self.text:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"{needle!r} never showed; the screen said:\n{self.text[-2000:]}")
            self.read()

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_exit(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read()
        return self.proc.wait(timeout=1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def drive(args: list[str], env: dict[str, str], *, expect: str) -> str:
    term = Terminal(args, env)
    try:
        term.wait_for("Overview")
        term.wait_for("Throughput")
        term.press("2")
        term.wait_for(expect)
        term.press("q")
        assert term.wait_exit() == 0
        return term.text
    finally:
        term.close()


@pytest.mark.vendors("sqlite")
def test_with_the_settings_module(alias, seeded):
    text = drive(["--backend", alias, "tui", "--read-only"], subprocess_env(), expect="emails")
    assert "READ-ONLY" in text


def test_standalone_with_a_database_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    env = subprocess_env(DJANGO_SETTINGS_MODULE=None)
    assert run_djq("--database-url", url, "migrate", env=env).exit_code == 0
    assert run_djq("--database-url", url, "enqueue", "shop.tasks.send", "--queue", "mail", env=env).exit_code == 0
    text = drive(["--database-url", url, "tui"], env, expect="mail")
    assert "standalone" in text


def test_embedded_demo_database(tmp_path):
    env = subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_HOME=str(tmp_path))
    assert run_djq("enqueue", "djq_cli.demo.greet", "--args", '["ada"]', env=env).exit_code == 0
    text = drive(["tui"], env, expect="default")
    assert "embedded" in text


def test_other_commands_do_not_import_textual():
    code = ("import sys; from djq_cli.main import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "from djq_cli.commands import register_commands\n"
            "assert not [m for m in sys.modules if m == 'textual' or m.startswith('textual.')], 'textual imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    help_run = subprocess.run([sys.executable, "-X", "importtime", "-m", "djq_cli.main", "tui", "--help"], cwd=ROOT,
                              env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert help_run.returncode == 0 and "djq tui" in help_run.stdout
    assert " textual" not in help_run.stderr  # not even for the tui command's own --help
