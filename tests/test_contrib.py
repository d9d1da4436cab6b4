"""Embedded mode: the runtime inside an ASGI server's lifespan."""

from __future__ import annotations

import asyncio
import time

import pytest

from djq.contrib.asgi import DjqLifespan
from djq.models import Process
from tests import tasks


def wait_until(predicate, timeout: float = 20.0, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


@pytest.mark.e2e
def test_lifespan_runs_the_runtime_between_startup_and_shutdown(alias, backend):
    inner_calls = []

    async def app(scope, receive, send):
        inner_calls.append(scope["type"])

    wrapped = DjqLifespan(app, backend_alias=alias, skip_recurring=True)
    sent: list[dict] = []
    events: asyncio.Queue = asyncio.Queue()

    async def receive():
        return await events.get()

    async def send(message):
        sent.append(message)

    async def scenario():
        server = asyncio.create_task(wrapped({"type": "lifespan"}, receive, send))
        await events.put({"type": "lifespan.startup"})
        while not sent:
            await asyncio.sleep(0.01)
        assert sent[-1]["type"] == "lifespan.startup.complete"
        result = await asyncio.to_thread(tasks.add.using(backend=alias).enqueue, 20, 22)
        finished = await asyncio.to_thread(
            wait_until, lambda: (r := backend.get_result(result.id)).is_finished and r, 30, "the job to finish"
        )
        assert finished.return_value == 42
        await wrapped.app({"type": "http"}, receive, send)
        await events.put({"type": "lifespan.shutdown"})
        await server
        return result

    asyncio.run(scenario())
    assert sent[-1]["type"] == "lifespan.shutdown.complete"
    assert inner_calls == ["lifespan", "http"]  # offered the lifespan; it did not take part, so djq answered
    assert not wrapped.runtime.running
    assert not Process.objects.using(alias).exists()


def test_a_failed_startup_is_reported_to_the_server():
    """A lifespan startup that cannot start reports the failure to the server."""
    wrapped = DjqLifespan(lambda *a: None, backend_alias="no-such-alias")
    sent: list[dict] = []

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        sent.append(message)

    asyncio.run(wrapped({"type": "lifespan"}, receive, send))
    assert sent[-1]["type"] == "lifespan.startup.failed"
    assert "no-such-alias" in sent[-1]["message"]
