"""``stats.json`` and ``metrics``: read-only, bearer-token protected, one snapshot per backend."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from . import metrics as metrics_module
from . import source
from .auth import refusal

MISSING_PROMETHEUS = 'djq: metrics need prometheus-client: pip install "djq[prometheus]"\n'


def _backends(request: HttpRequest) -> list[str] | HttpResponse:
    wanted = request.GET.getlist("backend")
    known = source.backends()
    unknown = [b for b in wanted if b not in known]
    if unknown:
        return HttpResponse(f"djq: no djq backend {unknown[0]!r} (known: {', '.join(known)})\n", status=404,
                            content_type="text/plain; charset=utf-8")
    return wanted or known


@require_GET
def stats_json(request: HttpRequest) -> HttpResponse:
    """The snapshot of one backend (``?backend=``, default ``default``) as ``djq stats --json`` prints it."""
    if (refused := refusal(request)) is not None:
        return refused
    chosen = _backends(request)
    if isinstance(chosen, HttpResponse):
        return chosen
    alias = chosen[0] if request.GET.get("backend") or "default" not in chosen else "default"
    response = JsonResponse(source.document(alias), json_dumps_params={"indent": 2})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition for every djq backend (or those named by ``?backend=``)."""
    if (refused := refusal(request)) is not None:
        return refused
    if not metrics_module.available():
        return HttpResponse(MISSING_PROMETHEUS, status=501, content_type="text/plain; charset=utf-8")
    chosen = _backends(request)
    if isinstance(chosen, HttpResponse):
        return chosen
    body, content_type = metrics_module.exposition(chosen)
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
