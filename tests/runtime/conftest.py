"""Fixtures for the end-to-end runtime tests.

``start_runtime(*args, options=..., env=..., databases=...)`` starts `djq start`
for the test's alias and returns a ``Runtime``; whatever is still running at
the end of the test is killed, and the logs of a failed test are printed.
"""

from __future__ import annotations

import pytest

from tests.runtime.harness import Runtime


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.djq_failed = report.failed
    return report


@pytest.fixture
def start_runtime(request, alias, tmp_path):
    started: list[Runtime] = []

    def start(*args: str, options: dict | None = None, env: dict | None = None, databases: dict | None = None,
              name: str | None = None) -> Runtime:
        runtime = Runtime(alias, *args, tmp=tmp_path, options=options, env=env, databases=databases,
                          name=name or f"runtime-{len(started) + 1}")
        started.append(runtime)
        return runtime.start()

    yield start
    for runtime in started:
        runtime.kill()
    if getattr(request.node, "djq_failed", False):
        for runtime in started:
            print(f"--- {runtime.stderr_path.name} (exit {runtime.proc.returncode}) ---\n{runtime.log()}")
