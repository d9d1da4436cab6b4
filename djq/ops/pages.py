"""Pages and capped counts: how every listing stays cheap at a million rows.

A listing never counts or fetches more than it shows. A ``Page`` holds one
window of rows in a fixed order (each order matches an index), opaque
cursors for the windows on either side, and a ``Count`` that is exact up
to a cap and says "10,000+" beyond it. Counting stops at ``cap + 1`` rows
(``SELECT count(*) FROM (SELECT 1 ... LIMIT cap + 1)``), so a count costs
at most ``cap`` index entries, however big the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import DjqError

#: Counts stop here by default (Mission Control stops at 500,000; 10,000 keeps a count in the low milliseconds).
COUNT_CAP = 10_000


class InvalidCursor(DjqError):
    """A page cursor that this listing did not hand out. Start again from the first page."""


@dataclass(frozen=True, slots=True)
class Count:
    """A row count that is exact up to ``cap``; beyond it ``capped`` is set and ``value`` is ``cap``.

    ``str()`` reads "1,234" when exact and "10,000+" when capped; ``int()``
    gives ``value``. ``Count.of(n, cap)`` builds one from a count that
    stopped at ``cap + 1``.
    """

    value: int
    capped: bool = False
    cap: int = COUNT_CAP

    @classmethod
    def of(cls, counted: int, cap: int = COUNT_CAP) -> Count:
        return cls(cap, True, cap) if counted > cap else cls(counted, False, cap)

    def __str__(self) -> str:
        return f"{self.value:,}{'+' if self.capped else ''}"

    def __int__(self) -> int:
        return self.value

    def __bool__(self) -> bool:
        return self.value > 0

    def __add__(self, other: Count) -> Count:
        """The sum is capped when either side is (a lower bound then)."""
        return Count(self.value + other.value, self.capped or other.capped, max(self.cap, other.cap))

    def __json__(self) -> int | str:
        """JSON form: the number when exact, "10000+" when capped."""
        return self.value if not self.capped else f"{self.value}+"


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One window of a listing, in the listing's order.

    ``next_cursor`` (pass it as ``after=``) leads to the rows after the last
    one shown and is ``None`` on the last page; ``previous_cursor`` (pass it
    as ``before=``) leads to the rows before the first one shown and is
    ``None`` on the first page. ``count`` counts every row that matches
    the listing's filters, not only this window, capped.
    """

    rows: tuple[T, ...]
    count: Count
    next_cursor: str | None = None
    previous_cursor: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)


def capped_count(queryset, cap: int = COUNT_CAP, order: tuple[str, ...] = ()) -> Count:
    """Count ``queryset``'s rows, stopping at ``cap + 1``: one ``count(*)`` over a ``LIMIT`` subquery.

    ``order`` is the order of the index to count along: without it, the
    planner may read the first ``cap + 1`` rows of the table itself when most
    of the table matches, fast only while those rows come first.
    """
    # Django counts a sliced queryset as SELECT COUNT(*) FROM (... ORDER BY ... LIMIT n).
    return Count.of(queryset.order_by(*order).values("pk")[: cap + 1].count(), cap)
