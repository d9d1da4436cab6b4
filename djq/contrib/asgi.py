"""``DjqLifespan``: run djq's runtime for as long as an ASGI application runs.

    application = DjqLifespan(get_asgi_application())

The runtime starts on ``lifespan.startup`` and drains on ``lifespan.shutdown``.
Lifespan events are passed on to the wrapped application when it handles
them; one that does not (Django's own ASGI handler) is answered here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .embedded import EmbeddedRuntime

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class DjqLifespan:
    def __init__(self, app: Callable, backend_alias: str = "default", *, skip_recurring: bool = False) -> None:
        self.app = app
        self.runtime = EmbeddedRuntime(backend_alias, skip_recurring=skip_recurring)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await asyncio.to_thread(self.runtime.start)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.runtime.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return
