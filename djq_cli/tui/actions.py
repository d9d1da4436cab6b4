"""The dashboard's actions: each is one ``djq.ops`` verb, the same one the CLI command calls.

A ``Plan`` is built on the event loop from what the operator pointed at
(ids, a queue name, a filter) and captured there and then: the confirm
modal shows it and, on "Yes", ``Plan.run`` executes exactly that, in a
worker thread, whatever the cursor points at by then. ``command`` is the
``djq`` command line that does the same, shown in the modal to teach it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .data import JobFilters


@dataclass(frozen=True)
class Plan:
    """One action, ready to run."""

    title: str  # "Discard 3 jobs"
    command: str  # the equivalent djq command
    run: Callable[[], str]  # runs in a worker thread; returns the notification text
    destructive: bool = False
    count: int | None = None  # how many things it acts on, when known
    targets: str = ""  # "ids 4, 5, 6" or "failed jobs matching queue:emails"
    typed: int | None = None  # the operator must type this number to confirm
    changes: str = "jobs"  # what to refresh afterwards


def _djq(backend: str, *words: object) -> str:
    prefix = ["djq"] + (["--backend", backend] if backend != "default" else [])
    return shlex.join([*prefix, *(str(w) for w in words)])


def _ids_text(ids: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:20])
    return f"id{'s' if len(ids) != 1 else ''} {shown}{', …' if len(ids) > 20 else ''}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _bulk_message(result, past: str, what: str) -> str:
    text = f"{past} {_plural(result.changed, what)}"
    if result.skipped:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(result.reasons.items()))
        text += f"; skipped {result.skipped} ({reasons})" if reasons else f"; skipped {result.skipped}"
    return text


# -- queues ---------------------------------------------------------------------------


def pause_queue(backend: str, name: str) -> Plan:
    def run() -> str:
        from djq.ops.queues import pause

        return pause(backend, name).message

    return Plan(f"Pause queue {name}", _djq(backend, "queues", "pause", name), run, changes="queues")


def resume_queue(backend: str, name: str) -> Plan:
    def run() -> str:
        from djq.ops.queues import resume

        return resume(backend, name).message

    return Plan(f"Resume queue {name}", _djq(backend, "queues", "resume", name), run, changes="queues")


def clear_queue(backend: str, name: str, ready: int | None) -> Plan:
    def run() -> str:
        from djq.ops.queues import clear

        return _bulk_message(clear(backend, name), "discarded", "ready job") + f" from {name}"

    count = f"{ready:,} " if ready is not None else ""
    return Plan(f"Clear queue {name}", _djq(backend, "queues", "clear", name, "--yes"), run, destructive=True,
                count=ready, targets=f"the {count}ready jobs of queue {name} (scheduled, running and failed stay)")


# -- jobs -----------------------------------------------------------------------------


def _job_filter(backend: str, **kw):
    from djq.ops.jobs import JobFilter

    return JobFilter(backend_alias=backend, **kw)


def retry_jobs(backend: str, ids: Sequence[int]) -> Plan:
    ids = tuple(sorted(set(ids)))

    def run() -> str:
        from djq.ops.jobs import retry

        return _bulk_message(retry(_job_filter(backend, ids=ids)), "retried", "job")

    many = len(ids) > 1
    return Plan(f"Retry {_plural(len(ids), 'job')}", _djq(backend, "jobs", "retry", *ids, *(["--yes"] if many else [])),
                run, destructive=many, count=len(ids), targets=_ids_text(ids))


def discard_jobs(backend: str, ids: Sequence[int]) -> Plan:
    ids = tuple(sorted(set(ids)))

    def run() -> str:
        from djq.ops.jobs import discard

        return _bulk_message(discard(_job_filter(backend, ids=ids)), "discarded", "job")

    many = len(ids) > 1
    return Plan(f"Discard {_plural(len(ids), 'job')}",
                _djq(backend, "jobs", "discard", *ids, *(["--yes"] if many else [])), run, destructive=True,
                count=len(ids), targets=_ids_text(ids) + " (this cannot be undone)")


def enqueue_again(backend: str, ids: Sequence[int]) -> Plan:
    ids = tuple(sorted(set(ids)))

    def run() -> str:
        from djq.ops.jobs import enqueue_again as again

        new = [again(backend, i) for i in ids]
        return f"enqueued {_plural(len(new), 'copy').replace('copys', 'copies')}: {_ids_text(new)}"

    command = "; ".join(_djq(backend, "jobs", "enqueue-again", i) for i in ids[:3]) + ("; …" if len(ids) > 3 else "")
    return Plan(f"Enqueue {_plural(len(ids), 'job')} again", command, run, destructive=len(ids) > 1,
                count=len(ids), targets=_ids_text(ids))


def _filter_words(filters: JobFilters) -> list[str]:
    words: list[str] = []
    for option, value in (("--queue", filters.queue), ("--task", filters.task), ("--exception", filters.exception)):
        if value:
            words += [option, value]
    return words


def retry_matching(backend: str, filters: JobFilters, matched: int) -> Plan:
    """Every failed job matching the filter, as captured now."""

    def run() -> str:
        from djq.ops.jobs import retry

        return _bulk_message(retry(_job_filter(backend, states=("failed",), queue=filters.queue,
                                               task_path=filters.task, exception_class=filters.exception)),
                             "retried", "job")

    where = filters.describe() or "everything"
    return Plan(f"Retry {_plural(matched, 'failed job')}", _djq(backend, "jobs", "retry", "--all",
                                                                 *_filter_words(filters), "--yes"),
                run, destructive=True, count=matched, targets=f"every failed job matching {where}", typed=matched)


def discard_matching(backend: str, state: str, filters: JobFilters, matched: int) -> Plan:
    def run() -> str:
        from djq.ops.jobs import discard

        return _bulk_message(discard(_job_filter(backend, states=(state,), queue=filters.queue,
                                                 task_path=filters.task, exception_class=filters.exception)),
                             "discarded", "job")

    where = filters.describe() or "everything"
    return Plan(f"Discard {_plural(matched, state + ' job')}",
                _djq(backend, "jobs", "discard", "--all", "--state", state, *_filter_words(filters), "--yes"),
                run, destructive=True, count=matched,
                targets=f"every {state} job matching {where} (this cannot be undone)", typed=matched)


def count_matching(backend: str, state: str, filters: JobFilters) -> int:
    """How many jobs a bulk verb would touch now (a dry run of the same verb). Runs in a worker."""
    from djq.ops.jobs import discard, retry

    flt = _job_filter(backend, states=(state,), queue=filters.queue, task_path=filters.task,
                      exception_class=filters.exception)
    return (retry if state == "failed" else discard)(flt, dry_run=True).matched


# -- recurring tasks --------------------------------------------------------------------


def pause_recurring(backend: str, key: str, paused: bool) -> Plan:
    def run() -> str:
        from djq.ops.recurring import set_paused

        return set_paused(backend, key, paused).message

    verb = "pause" if paused else "resume"
    return Plan(f"{verb.capitalize()} {key}", _djq(backend, "recurring", verb, key), run, changes="recurring")


def run_recurring(backend: str, key: str) -> Plan:
    def run() -> str:
        from djq.ops.recurring import run_now

        return f"enqueued job {run_now(backend, key)} for {key}"

    return Plan(f"Run {key} now", _djq(backend, "recurring", "run", key), run, changes="recurring")


def unschedule_recurring(backend: str, key: str, task: str, schedule: str) -> Plan:
    def run() -> str:
        from djq.ops.recurring import unschedule

        return f"unscheduled {key}" if unschedule(backend, key) else f"{key} was already unscheduled"

    return Plan(f"Unschedule {key}", _djq(backend, "recurring", "unschedule", key, "--yes"), run, destructive=True,
                count=1, targets=f"recurring task {key} ({task}, {schedule})", changes="recurring")
