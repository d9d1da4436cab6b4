"""Worker queue selectors: ``"*"``, a prefix such as ``"email*"``, or an exact queue name.

The rule is written twice by necessity, once in Python (config checks,
LISTEN/NOTIFY filtering, claim ordering) and once as SQL (the claim), so
both live here side by side; a test runs the SQL on every vendor and
checks it agrees with ``matches`` case by case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def matches(selector: str, queue_name: str) -> bool:
    """Whether a worker queue selector covers a queue."""
    if selector.endswith("*"):
        return queue_name.startswith(selector[:-1])
    return queue_name == selector


def normalise(selectors: Sequence[str]) -> list[str]:
    """Drop duplicates and anything after ``*`` (which already matches every queue)."""
    out: list[str] = []
    for s in selectors:
        if s not in out:
            out.append(s)
        if s == "*":
            break
    return out


def rank(selectors: Sequence[str], queue_name: str) -> int:
    """The position of the first selector covering ``queue_name`` (workers drain selectors in order)."""
    return next((i for i, s in enumerate(selectors) if matches(s, queue_name)), len(selectors))


def sql_clause(selector: str) -> tuple[str, list[Any]]:
    """``matches`` as SQL restricting ``queue_name`` (an ``AND ...`` suffix and its parameters)."""
    if selector == "*":
        return "", []
    if selector.endswith("*"):
        prefix = selector[:-1]
        pattern = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        # SQLite's LIKE ignores case; the substr() test keeps "email*" off "Email".
        return " AND queue_name LIKE %s ESCAPE '!' AND substr(queue_name, 1, %s) = %s", [
            pattern + "%", len(prefix), prefix,
        ]
    return " AND queue_name = %s", [selector]
