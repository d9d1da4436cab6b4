"""ASGI applications for the uvicorn test: Django behind ``DjqLifespan``.

``DJQ_TEST_BACKEND`` picks the backend alias; with ``DJQ_TEST_EVENTS`` set
the wrapped application takes part in the lifespan itself and appends
``startup`` / ``shutdown`` to that file.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from djq.contrib.asgi import DjqLifespan

django_app = get_asgi_application()
EVENTS = os.environ.get("DJQ_TEST_EVENTS")


async def app_with_lifespan(scope, receive, send):
    if scope["type"] != "lifespan":
        await django_app(scope, receive, send)
        return
    while True:
        message = await receive()
        kind = message["type"].removeprefix("lifespan.")
        with open(EVENTS, "a") as fh:
            fh.write(kind + "\n")
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return


application = DjqLifespan(app_with_lifespan if EVENTS else django_app,
                          backend_alias=os.environ.get("DJQ_TEST_BACKEND", "default"), skip_recurring=True)
