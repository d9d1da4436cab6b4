"""Bearer-token access to the observability endpoints (``stats.json``, ``metrics``).

``DJQ_OBSERVABILITY_TOKEN`` holds the token; requests send it as
``Authorization: Bearer <token>``. Without a token the endpoints are closed
unless ``DJQ_OBSERVABILITY_PUBLIC = True`` says they are meant to be open
(for URLs that a proxy or the network already protects).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REALM = 'Bearer realm="djq"'


def tokens_match(given: str, expected: str) -> bool:
    """Compare two tokens in time that does not depend on where they differ."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def refusal(request: HttpRequest) -> HttpResponse | None:
    """``None`` when the request may read the endpoints, else the response that refuses it."""
    expected = getattr(settings, "DJQ_OBSERVABILITY_TOKEN", None) or None
    if expected is None:
        if getattr(settings, "DJQ_OBSERVABILITY_PUBLIC", False):
            return None
        return _unauthorized("djq: set DJQ_OBSERVABILITY_TOKEN (or DJQ_OBSERVABILITY_PUBLIC = True) to open this "
                             "endpoint\n", error="invalid_token")
    given = bearer_token(request)
    if given is None:
        return _unauthorized("djq: send Authorization: Bearer <DJQ_OBSERVABILITY_TOKEN>\n")
    if not tokens_match(given, str(expected)):
        return _unauthorized("djq: wrong bearer token\n", error="invalid_token")
    return None


def _unauthorized(text: str, *, error: str | None = None) -> HttpResponse:
    response = HttpResponse(text, status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = REALM + (f', error="{error}"' if error else "")
    response["Cache-Control"] = "no-store"
    return response
