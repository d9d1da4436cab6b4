"""``DjqLifespan``: run djq's runtime for as long as an ASGI application runs.

    application = DjqLifespan(get_asgi_application())

The runtime starts on ``lifespan.startup`` and drains on ``lifespan.shutdown``.
Lifespan events are passed on to the wrapped application: one that handles
them (Starlette, an app with its own start-up work) gets its startup before
the runtime starts and its shutdown after the runtime has drained; one that
does not (Django's own ASGI handler raises for a lifespan scope) is answered
here, as servers expect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

logger = logging.getLogger("djq.runtime")


class _Inner:
    """The wrapped application's side of a lifespan conversation, if it takes part in one."""

    def __init__(self, app: Callable, scope: Scope) -> None:
        self.events: asyncio.Queue = asyncio.Queue()
        self.replies: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._run(app, scope))
        self.active = True

    async def _run(self, app: Callable, scope: Scope) -> None:
        await app(scope, self.events.get, self.replies.put)

    async def ask(self, message: dict) -> dict | None:
        """Pass ``message`` on; the application's answer, or ``None`` when it does not do lifespan."""
        if not self.active:
            return None
        await self.events.put(message)
        reply = asyncio.create_task(self.replies.get())
        done, _ = await asyncio.wait({reply, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if reply in done:
            return reply.result()
        reply.cancel()
        self.active = False
        if not self.task.cancelled() and self.task.exception() is not None:
            logger.debug("the wrapped application does not handle lifespan: %r", self.task.exception())
        return None


class DjqLifespan:
    def __init__(self, app: Callable, backend_alias: str = "default", *, skip_recurring: bool = False) -> None:
        # Imported here: asgi.py imports this module before get_asgi_application() has set Django up.
        from .embedded import EmbeddedRuntime

        self.app = app
        self.runtime = EmbeddedRuntime(backend_alias, skip_recurring=skip_recurring)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        inner = _Inner(self.app, scope)
        try:
            await self._lifespan(inner, receive, send)
        finally:
            if not inner.task.done():
                inner.task.cancel()

    async def _lifespan(self, inner: _Inner, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                reply = await inner.ask(message)
                if reply is not None and reply["type"] == "lifespan.startup.failed":
                    await send(reply)
                    return
                try:
                    await asyncio.to_thread(self.runtime.start)
                except Exception as exc:
                    await inner.ask({"type": "lifespan.shutdown"})
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.runtime.stop)
                reply = await inner.ask(message)
                if reply is not None and reply["type"] == "lifespan.shutdown.failed":
                    await send(reply)
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return
