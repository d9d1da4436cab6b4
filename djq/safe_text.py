"""Text from task code made safe to log and to store.

An exception message is whatever the task put in it: a megabyte, newlines
that forge log lines, terminal escapes, a NUL that PostgreSQL refuses, a
lone surrogate no database can encode. ``for_log`` gives one short line;
``for_storage`` keeps the text readable but storable everywhere.
"""

from __future__ import annotations

__all__ = ["LOG_LIMIT", "STORED_LIMIT", "error_text", "for_log", "for_storage"]

#: Characters of one exception message in a log line.
LOG_LIMIT = 500
#: Characters of one stored exception message or traceback (each attempt keeps its own).
STORED_LIMIT = 64 * 1024

_LOG_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def error_text(exc: BaseException) -> str:
    """``str(exc)``, even when the exception's own ``__str__`` raises."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"


def _valid_unicode(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def for_log(value: object, limit: int = LOG_LIMIT) -> str:
    """One line of at most about ``limit`` characters: control characters escaped, the rest cut."""
    text = error_text(value) if isinstance(value, BaseException) else str(value)
    extra = len(text) - limit
    text = _valid_unicode(text[:limit]).translate(_LOG_ESCAPES)
    if len(text) > limit:
        extra += len(text) - limit
        text = text[:limit]
    return f"{text}... ({extra:,} more characters)" if extra > 0 else text


def for_storage(text: str, limit: int = STORED_LIMIT, *, keep_end: bool = False) -> str:
    """``text`` with NUL and lone surrogates escaped, cut to ``limit`` characters.

    ``keep_end`` keeps the last characters instead (a traceback ends with the error).
    """
    if len(text) > limit:
        cut = len(text) - limit
        marker = f"[{cut:,} characters cut]"
        text = f"{marker}...{text[-limit:]}" if keep_end else f"{text[:limit]}...{marker}"
    return _valid_unicode(text).replace("\x00", "\\x00")
