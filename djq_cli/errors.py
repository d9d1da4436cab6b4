"""One clear line on stderr for every failure; a traceback only with -vv."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable


def describe(exc: BaseException) -> str:
    from django.core.exceptions import ImproperlyConfigured

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        from django.db import DatabaseError, InterfaceError

        if isinstance(exc, (DatabaseError, InterfaceError)):
            return f"database error: {text}"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, ImproperlyConfigured):
        return f"configuration error: {text}"
    return text


def run_guarded(call: Callable[[], object], *, verbose: int = 0) -> int:
    try:
        call()
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("djq: interrupted\n")
        return 130
    except Exception as exc:
        if verbose >= 2:
            traceback.print_exc()
        sys.stderr.write(f"djq: error: {describe(exc)}\n")
        return 1
    return 0
