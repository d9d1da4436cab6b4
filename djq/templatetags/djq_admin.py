"""Small formatting filters for djq's admin dashboard."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def count_cap(value, cap=None) -> str:
    """``1,234``, or ``10,000+`` for a count that stopped at the cap."""
    if value is None:
        return "\u2013"
    if getattr(value, "capped", False):
        return f"{int(value):,}+"
    n = int(value)
    if cap is not None and n > int(cap):
        return f"{int(cap):,}+"
    return f"{n:,}"


@register.filter
def seconds_words(value) -> str:
    """A duration in seconds as ``45s``, ``4m 10s``, ``2h 5m`` or ``3d 4h``; an en dash for none."""
    if value is None:
        return "\u2013"
    s = round(float(value))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s}s" if s else f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d {h}h" if h else f"{d}d"
