"""Values the operations layer returns: frozen, plain, safe to print as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk verb did: rows it matched, changed, and skipped (and why)."""

    matched: int = 0
    changed: int = 0
    skipped: int = 0
    dry_run: bool = False
    ids: tuple[int, ...] = ()
    reasons: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: BulkResult) -> BulkResult:
        reasons = dict(self.reasons)
        for k, v in other.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        return BulkResult(self.matched + other.matched, self.changed + other.changed,
                          self.skipped + other.skipped, self.dry_run or other.dry_run,
                          (self.ids + other.ids)[:100], reasons)


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of one idempotent verb on one thing ("already paused" is a success)."""

    name: str
    changed: bool
    message: str
