"""The one finish: writing attempts back to the jobs a process holds.

A worker's own outcomes and the outcomes recovery gives the jobs of a dead
process go through ``write_outcomes``, so a success that is not kept, a
retry, a failure and the concurrency slot a job gives back are decided in
one place. Only rows still claimed by that process change: a job recovery
took away (or another worker now holds) is left alone. Every write adds
the outcomes it made to the per-minute throughput rollup in the same
statement or transaction (``Dialect.finish``, ``Dialect.delete_finished``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from ..db.rows import Outcome
from ..states import FINISHED
from .handle import Handle


def deletes(h: Handle, outcome: Outcome) -> bool:
    """Whether this outcome removes its row (a success with ``preserve_finished_jobs`` off)."""
    return outcome.state == FINISHED and not h.config.preserve_finished_jobs


def is_plain(h: Handle, outcomes: Sequence[Outcome]) -> bool:
    """Whether a batch is one plain UPDATE (no slot to release, no row to delete).

    Plain batches may ride on the worker's next claim in one round trip.
    """
    return not any(o.concurrency_key or deletes(h, o) for o in outcomes)


def write_outcomes(h: Handle, process_id: int, outcomes: Sequence[Outcome], *, now: datetime | None = None) -> int:
    """Write ``outcomes`` in one transaction; returns how many rows this process still held."""
    if not outcomes:
        return 0
    dialect = h.dialect
    now = now or timezone.now()
    plain = [o for o in outcomes if not o.concurrency_key]
    updates = [o for o in plain if not deletes(h, o)]
    removals = [o for o in plain if deletes(h, o)]
    keyed = sorted((o for o in outcomes if o.concurrency_key), key=lambda o: o.concurrency_key)
    if not keyed and not (updates and removals):
        # One statement: autocommit is atomic enough, and saves BEGIN and COMMIT.
        return dialect.finish(process_id, updates) if updates else dialect.delete_finished(process_id, removals)
    woken: set[tuple[str, str]] = set()
    with dialect.write_transaction():
        changed = dialect.finish(process_id, updates) + dialect.delete_finished(process_id, removals)
        # One at a time, in key order (no lock-order deadlocks between
        # writers), and a slot only for a row this process still held: a job
        # that recovery already failed gave its slot back then.
        for o in keyed:
            held = dialect.delete_finished(process_id, [o]) if deletes(h, o) else dialect.finish(process_id, [o])
            changed += held
            if held:
                freed = dialect.release_slot(o.concurrency_key, now)
                if freed:
                    woken.add(freed)
    for alias, queue_name in sorted(woken):
        dialect.notify(alias, [queue_name])
    return changed
