"""Configuration problems as Django system check messages.

Nothing is registered here; ``DjqBackend.check()`` calls :func:`check_backend`.
"""

from __future__ import annotations

from django.core import checks

from djq.config.loader import validate


def check_backend(alias: str, **kwargs) -> list[checks.CheckMessage]:
    """One ``djq.E001`` error per configuration problem of ``alias``.

    Keyword arguments (``config_file``, ``overrides``, ``environ``) go to
    :func:`djq.config.validate`.
    """
    return [checks.Error(problem, id="djq.E001") for problem in validate(alias, **kwargs)]
