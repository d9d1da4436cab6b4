"""Where a job is in its life, with no Django in sight.

Models, the engine, the operations layer, front ends and tests all name
states and their groups from here, so a new state or a changed rule is one
edit. ``TRANSITIONS`` is the state machine the engine implements; a test
checks every move the engine makes against it.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """``enqueue -> ready | scheduled | blocked -> claimed -> finished | failed``.

    ``discarded`` is a job that a concurrency limit with
    ``on_conflict="discard"`` dropped: it never ran.
    """

    READY = "ready"
    SCHEDULED = "scheduled"
    BLOCKED = "blocked"
    CLAIMED = "claimed"
    FINISHED = "finished"
    FAILED = "failed"
    DISCARDED = "discarded"


READY, SCHEDULED, BLOCKED, CLAIMED = JobState.READY, JobState.SCHEDULED, JobState.BLOCKED, JobState.CLAIMED
FINISHED, FAILED, DISCARDED = JobState.FINISHED, JobState.FAILED, JobState.DISCARDED

#: Every state, in the order of a job's life (listings and totals use it).
ALL: tuple[JobState, ...] = tuple(JobState)

#: Waiting to run: a worker may claim them once due, unblocked and unpaused.
WAITING: tuple[JobState, ...] = (READY, SCHEDULED, BLOCKED)

#: Held by a runtime process.
ACTIVE: tuple[JobState, ...] = (CLAIMED,)

#: A job never leaves these by itself (an operator may retry a failed one).
TERMINAL: tuple[JobState, ...] = (FINISHED, FAILED, DISCARDED)

#: What a queue's row counts: everything not yet done, and its failures.
QUEUED: tuple[JobState, ...] = (READY, SCHEDULED, CLAIMED, BLOCKED, FAILED)

#: An operator may delete these; running and finished jobs are left alone.
DISCARDABLE: tuple[JobState, ...] = (READY, SCHEDULED, BLOCKED, FAILED)

#: An operator may run these again.
RETRYABLE: tuple[JobState, ...] = (FAILED,)

#: Jobs that hold a concurrency slot while in these states.
SLOT_HOLDING: tuple[JobState, ...] = (READY, CLAIMED)

#: Every move the engine makes, from -> allowed destinations. ``None`` as a
#: destination is deletion (a discard, or a success that is not kept).
TRANSITIONS: dict[JobState, frozenset[JobState | None]] = {
    READY: frozenset({CLAIMED, None}),
    SCHEDULED: frozenset({READY, BLOCKED, DISCARDED, None}),
    BLOCKED: frozenset({READY, DISCARDED, None}),
    # A claim is released (back to ready), finished, failed, retried
    # (scheduled), or deleted when successes are not preserved.
    CLAIMED: frozenset({READY, FINISHED, FAILED, SCHEDULED, None}),
    FINISHED: frozenset({None}),
    FAILED: frozenset({READY, SCHEDULED, None}),
    DISCARDED: frozenset({None}),
}


def can_move(source: str, target: str | None) -> bool:
    """Whether the engine may move a job from ``source`` to ``target`` (``None``: delete)."""
    return target in TRANSITIONS[JobState(source)]
