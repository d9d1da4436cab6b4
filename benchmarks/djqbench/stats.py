"""Small numeric helpers shared by the child and the report."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks; q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def rnd(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def ms_summary(seconds: list[float], prefix: str = "") -> dict:
    ms = [s * 1000.0 for s in seconds]
    return {
        f"{prefix}p50_ms": rnd(percentile(ms, 50), 3),
        f"{prefix}p95_ms": rnd(percentile(ms, 95), 3),
        f"{prefix}p99_ms": rnd(percentile(ms, 99), 3),
        f"{prefix}max_ms": rnd(max(ms) if ms else None, 3),
        f"{prefix}mean_ms": rnd(statistics.fmean(ms) if ms else None, 3),
    }
