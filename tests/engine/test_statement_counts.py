"""Statements per hot-path operation, counted on the queue connection.

PostgreSQL does each in one autocommitted statement, except a bulk enqueue:
one transaction that draws the ids (and queues the wake-up), then COPYs the rows. Elsewhere Django logs
the transaction's BEGIN and COMMIT too: SQLite wraps claims and promotions
in ``BEGIN IMMEDIATE`` (its write lock) and finishes row by row; MariaDB
has no ``UPDATE ... RETURNING``, so a claim is lock, update and read back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from djq.engine.execution import execute
from tests import tasks

BATCH = 10

#: vendor -> operation -> statements
EXPECTED = {
    "postgresql": {"enqueue": 1, "enqueue_all": 4, "claim": 1, "finish": 1, "promote": 1, "finish_and_claim": 1},
    "sqlite": {"enqueue": 1, "enqueue_all": 1, "claim": 3, "finish": BATCH + 3, "promote": 4,
               "finish_and_claim": BATCH + 3 + 3},
    "mysql": {"enqueue": 1, "enqueue_all": 1, "claim": 5, "finish": BATCH + 3, "promote": 4,
              "finish_and_claim": BATCH + 3 + 5},
}


@pytest.fixture
def count(alias):
    """``with count("claim"): ...`` asserts the statements run inside against EXPECTED."""
    vendor = connections[alias].vendor

    class Count:
        def __init__(self, operation: str) -> None:
            self.operation = operation
            self.ctx = CaptureQueriesContext(connections[alias])

        def __enter__(self):
            self.ctx.__enter__()
            return self.ctx

        def __exit__(self, *exc):
            self.ctx.__exit__(*exc)
            if exc[0] is None:
                statements = [q["sql"][:80] for q in self.ctx.captured_queries]
                assert len(statements) == EXPECTED[vendor][self.operation], statements

    return Count


def test_enqueue(alias, count):
    task = tasks.add.using(backend=alias)
    with count("enqueue"):
        task.enqueue(1, 2)


def test_enqueue_all_of_500(alias, backend, count, jobs):
    calls = [(tasks.add.using(backend=alias), (i, i), {}) for i in range(500)]
    with count("enqueue_all"):
        backend.enqueue_all(calls)
    assert jobs().count() == 500


def test_claim_and_finish_a_batch(alias, backend, worker, count):
    backend.enqueue_all([(tasks.add.using(backend=alias), (i, i), {}) for i in range(BATCH)])
    with count("claim"):
        claimed = worker.claim(BATCH)
    assert len(claimed) == BATCH
    attempts = [execute(job) for job in claimed]
    with count("finish"):
        assert worker.finish(attempts) == BATCH


def test_promote(alias, backend, count, jobs):
    when = timezone.now() + timedelta(minutes=5)
    backend.enqueue_all([(tasks.add.using(backend=alias, run_after=when), (i, i), {}) for i in range(BATCH)])
    with count("promote"):
        assert backend.dialect.promote_due(alias, when, 500) == BATCH
    assert jobs(state="ready").count() == BATCH


def test_finish_and_claim(alias, backend, worker, count):
    # What a busy worker does each round: record a batch and claim the next.
    backend.enqueue_all([(tasks.add.using(backend=alias), (i, i), {}) for i in range(2 * BATCH)])
    attempts = [execute(job) for job in worker.claim(BATCH)]
    with count("finish_and_claim"):
        changed, claimed = worker.dialect.finish_and_claim(
            worker.process_id, [a.outcome for a in attempts], alias, ["*"], BATCH,
            worker_id=worker.worker_id, now=timezone.now(),
        )
    assert (changed, len(claimed)) == (BATCH, BATCH)
