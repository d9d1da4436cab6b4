"""The read models' statements that the ORM cannot say: loose index scans and capped counts in bulk.

Each is portable (PostgreSQL, SQLite, MariaDB/MySQL 8) and names the job
state as a literal, never a parameter: a partial index only serves a query
whose WHERE clause implies its predicate, which a bound value never does.
States come from ``STATES`` only, so formatting them into the text is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections

STATES = ("ready", "scheduled", "blocked", "claimed", "finished", "failed", "discarded")

#: The order to count each state's rows along, without / with a queue: its index's order, so
#: that a count is a walk of that index even when most of the table matches (where the
#: planner would otherwise read the table from its start).
COUNT_ORDER = {
    "ready": ("priority DESC, id", "priority DESC, id"),
    "scheduled": ("scheduled_at", "id"),
    "blocked": ("queue_name, id", "id"),
    "claimed": ("process_id", "process_id"),
    "finished": ("finished_at, id", "finished_at, id"),
    "failed": ("finished_at, id", "id"),
    "discarded": ("finished_at, id", "finished_at, id"),
}

#: Branches per UNION ALL statement (keeps parameter counts low on every vendor).
CHUNK = 100


def _state(state: str) -> str:
    if state not in STATES:
        raise ValueError(f"unknown job state {state!r}")
    return state


def distinct_values(database: str, backend_alias: str, states: Sequence[str], column: str) -> list[tuple[str, str]]:
    """(state, value) for every distinct ``column`` value among the jobs of each state.

    A loose index scan: starting from the smallest value, each step asks
    for the next bigger one, one index probe each, so the cost is the
    number of distinct values, not of rows. It needs an index on
    (backend_alias, column) under each state (migrations 0002 and 0004).
    """
    if column not in ("queue_name", "error_class", "task_path"):
        raise ValueError(f"no loose scan on {column!r}")
    if not states:
        return []
    ctes, selects, params = [], [], []
    for n, state in enumerate(states):
        state = _state(state)
        ctes.append(
            f"d{n} (v) AS (SELECT MIN({column}) FROM djq_job WHERE state = '{state}' AND backend_alias = %s"
            f" UNION ALL SELECT (SELECT MIN(j.{column}) FROM djq_job j"
            f" WHERE j.state = '{state}' AND j.backend_alias = %s AND j.{column} > d{n}.v)"
            f" FROM d{n} WHERE d{n}.v IS NOT NULL)"
        )
        selects.append(f"SELECT '{state}', v FROM d{n} WHERE v IS NOT NULL")
        params += [backend_alias, backend_alias]
    sql = "WITH RECURSIVE " + ", ".join(ctes) + " " + " UNION ALL ".join(selects)
    with connections[database].cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def capped_counts(
    database: str, backend_alias: str, groups: Iterable[tuple[str, str | None]], cap: int
) -> dict[tuple[str, str | None], int]:
    """Jobs per (state, queue) (``None``: every queue), each counted up to ``cap + 1`` only.

    One statement per ``CHUNK`` groups, each branch ``count(*)`` over a
    ``LIMIT cap + 1`` subquery on the state's index: at most ``cap + 1``
    index entries per group, however many rows the group holds.
    """
    groups = list(groups)
    out: dict[tuple[str, str | None], int] = {}
    if connections[database].vendor == "postgresql":
        return _capped_counts_pg(database, backend_alias, groups, cap)
    with connections[database].cursor() as cursor:
        for start in range(0, len(groups), CHUNK):
            branches: list[str] = []
            params: list[Any] = []
            chunk = groups[start:start + CHUNK]
            for n, (state, queue) in enumerate(chunk):
                where = f"state = '{_state(state)}' AND backend_alias = %s"
                params.append(backend_alias)
                if queue is not None:
                    where += " AND queue_name = %s"
                    params.append(queue)
                order = COUNT_ORDER[state][queue is not None]
                branches.append(
                    f"SELECT {n}, COUNT(*) FROM (SELECT 1 AS one FROM djq_job WHERE {where}"
                    f" ORDER BY {order} LIMIT {int(cap) + 1}) AS t{n}"
                )
            cursor.execute(" UNION ALL ".join(branches), params)
            # SQL does not promise UNION ALL keeps its branches' order: each row says which it is.
            for n, counted in cursor.fetchall():
                out[chunk[n]] = counted
    return out


def _capped_counts_pg(database: str, backend_alias: str, groups: list, cap: int) -> dict:
    # The same counts with one subplan per state, run once per queue of an
    # array: planning a UNION of a hundred branches costs more than running it.
    by_state: dict[str, list[str | None]] = {}
    for state, queue in groups:
        by_state.setdefault(_state(state), []).append(queue)
    out: dict[tuple[str, str | None], int] = {}
    branches, params = [], []
    for state, queues in by_state.items():
        total = [q for q in queues if q is None]
        named = [q for q in queues if q is not None]
        if total:
            branches.append(
                f"SELECT '{state}', NULL, (SELECT COUNT(*) FROM (SELECT 1 FROM djq_job"
                f" WHERE state = '{state}' AND backend_alias = %s ORDER BY {COUNT_ORDER[state][0]}"
                f" LIMIT {int(cap) + 1}) AS t)"
            )
            params.append(backend_alias)
        if named:
            branches.append(
                f"SELECT '{state}', q.name, (SELECT COUNT(*) FROM (SELECT 1 FROM djq_job"
                f" WHERE state = '{state}' AND backend_alias = %s AND queue_name = q.name"
                f" ORDER BY {COUNT_ORDER[state][1]} LIMIT {int(cap) + 1}) AS t)"
                " FROM unnest(%s::text[]) AS q(name)"
            )
            params += [backend_alias, named]
    if not branches:
        return out
    with connections[database].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        for state, queue, counted in cursor.fetchall():
            out[(state, queue)] = counted
    return out


def oldest_ready(database: str, backend_alias: str, queues: Sequence[str]) -> dict[str, Any]:
    """When the oldest ready job of each queue became due: one index probe per queue.

    Raw values as the driver returns them (``djq.db.rows.as_aware`` reads them).
    """
    out: dict[str, Any] = {}
    queues = list(queues)
    if queues and connections[database].vendor == "postgresql":
        with connections[database].cursor() as cursor:
            cursor.execute(
                "SELECT q.name, (SELECT MIN(scheduled_at) FROM djq_job WHERE state = 'ready'"
                " AND backend_alias = %s AND queue_name = q.name) FROM unnest(%s::text[]) AS q(name)",
                [backend_alias, queues],
            )
            return {name: value for name, value in cursor.fetchall() if value is not None}
    with connections[database].cursor() as cursor:
        for start in range(0, len(queues), CHUNK):
            chunk = queues[start:start + CHUNK]
            branches, params = [], []
            for n, queue in enumerate(chunk):
                branches.append(f"SELECT {n}, MIN(scheduled_at) FROM djq_job"
                                " WHERE state = 'ready' AND backend_alias = %s AND queue_name = %s")
                params += [backend_alias, queue]
            cursor.execute(" UNION ALL ".join(branches), params)
            for n, value in cursor.fetchall():
                if value is not None:
                    out[chunk[n]] = value
    return out
