"""``DjqBackend``: Django's task backend contract, stored in the application's database."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import Task, TaskResult, TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone

from .concurrency import policy_for, without_slot
from .db.rows import NewJob
from .engine.building import build_job, check_priority, check_queue
from .engine.execution import wanted
from .engine.task_results import build_result, task_for_job
from .exceptions import EnqueueError, InvalidTaskOptions
from .states import DISCARDED, READY

logger = logging.getLogger("djq.job")


@dataclass(frozen=True, slots=True, kw_only=True)
class DjqTask(Task):
    """Django's ``Task`` with djq's options, declared on ``@task`` (Django 6.1+).

    ``@task(concurrency_key="account:{account_id}", concurrency_limit=1)``
    works without the ``djq.api.concurrency`` decorator; ``retry`` takes a
    ``djq.config.RetryPolicy`` or a mapping of its fields.
    """

    concurrency_key: Any = None
    concurrency_limit: int | None = None
    concurrency_duration: float | None = None
    on_conflict: str = "block"
    retry: Any = None


class DjqBackend(BaseTaskBackend):
    task_class = DjqTask
    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        # A missing QUEUES means "any queue" here, not Django's ["default"].
        self.queues = set(params.get("QUEUES") or ())

    @cached_property
    def config(self):
        from .config import get_config

        return get_config(self.alias)

    @property
    def handle(self):
        from .engine.handle import handle

        return handle(self.alias)

    @property
    def dialect(self):
        return self.handle.dialect

    @property
    def database(self) -> str:
        return self.config.database_alias

    def validate_task(self, task: Task) -> None:
        try:
            check_queue(self.alias, self.queues, task.queue_name)
            check_priority(task.priority)
        except EnqueueError as exc:
            raise InvalidTaskOptions(str(exc)) from exc
        super().validate_task(task)
        policy = policy_for(task)
        if policy is not None:
            try:
                policy.check()
            except EnqueueError as exc:
                raise InvalidTaskOptions(str(exc)) from exc

    # -- enqueue ----------------------------------------------------------------

    def new_job(self, task: Task, args: Sequence, kwargs: dict, now) -> NewJob:
        """The row for one call, validated; nothing is written."""
        return build_job(self, task_path=task.module_path, args=args, kwargs=kwargs, queue_name=task.queue_name,
                         priority=task.priority, run_after=task.run_after, now=now, task=task)

    def store(self, jobs: list[NewJob]) -> list[int]:
        """Write new jobs: one INSERT, plus slot checks for limited jobs that are due now."""
        # Slots are taken in key order so that concurrent batches never wait
        # on each other's semaphores in opposite orders.
        limited = sorted((j for j in jobs if j.concurrency_key and j.state == READY), key=lambda j: j.concurrency_key)
        if not limited:
            return self.dialect.insert_jobs(jobs)
        with self.dialect.write_transaction():
            for job in limited:
                if not self.dialect.acquire_slot(
                    job.concurrency_key, job.concurrency_limit, job.concurrency_duration, job.enqueued_at
                ):
                    for name, value in without_slot(job.concurrency_on_conflict, job.enqueued_at,
                                                    job.concurrency_duration).items():
                        setattr(job, name, value)
                    if job.state == DISCARDED:
                        logger.info("discarded a %s job: concurrency key %r is at its limit", job.task_path,
                                    job.concurrency_key)
            return self.dialect.insert_jobs(jobs)

    def _result_for(self, task: Task, job_id: int, job: NewJob, args, kwargs, announce: bool = True) -> TaskResult:
        # The TaskResult Django's own constructor would build, without its
        # per-call JSON normalisation: the arguments are read back from the
        # payload just encoded, which is that normalised form already.
        payload = json.loads(job.payload)
        result = object.__new__(TaskResult)
        for name, value in (
            ("task", task), ("id", str(job_id)),
            ("status", TaskResultStatus.SUCCESSFUL if job.state == DISCARDED else TaskResultStatus.READY),
            ("enqueued_at", job.enqueued_at), ("started_at", None), ("finished_at", job.finished_at),
            ("last_attempted_at", None), ("args", payload["args"]), ("kwargs", payload["kwargs"]),
            ("backend", self.alias), ("errors", []), ("worker_ids", []), ("_return_value", None),
        ):
            object.__setattr__(result, name, value)
        if announce:
            task_enqueued.send(type(self), task_result=result)
        return result

    def _announces_enqueue(self) -> bool:
        # Django's own receiver logs enqueues at DEBUG.
        return wanted(task_enqueued, type(self), logging.DEBUG)

    def enqueue(self, task: Task, args: Sequence, kwargs: dict) -> TaskResult:
        job = self.new_job(task, args, kwargs, timezone.now())
        [job_id] = self.store([job])
        return self._result_for(task, job_id, job, args, kwargs, self._announces_enqueue())

    def enqueue_all(self, task_calls: Iterable[tuple[Task, Sequence, dict]]) -> list[TaskResult]:
        """Enqueue many calls in one transaction (by COPY on PostgreSQL); all or none are stored."""
        now = timezone.now()
        calls = [(task, tuple(args), dict(kwargs)) for task, args, kwargs in task_calls]
        jobs = [self.new_job(task, args, kwargs, now) for task, args, kwargs in calls]
        if not jobs:
            return []
        ids = self.store(jobs)
        announce = self._announces_enqueue()
        return [
            self._result_for(task, job_id, job, args, kwargs, announce)
            for (task, args, kwargs), job_id, job in zip(calls, ids, jobs, strict=True)
        ]

    async def aenqueue_all(self, task_calls: Iterable[tuple[Task, Sequence, dict]]) -> list[TaskResult]:
        from asgiref.sync import sync_to_async

        return await sync_to_async(self.enqueue_all, thread_sensitive=True)(list(task_calls))

    # -- results ------------------------------------------------------------------

    def get_result(self, result_id: str) -> TaskResult:
        from .models import Job

        text = str(result_id)
        # Only the form enqueue issues: int() would also take " 12", "+12",
        # "012", "1_2" and non-ASCII digits, and answer for another id.
        if not (text.isascii() and text.isdigit()) or text[0] == "0":
            raise TaskResultDoesNotExist(result_id)
        job_id = int(text)
        if job_id >= 2**63:
            raise TaskResultDoesNotExist(result_id)
        job = (
            Job.objects.using(self.database)
            .filter(id=job_id, backend_alias=self.alias)
            .values(
                "id", "state", "task_path", "queue_name", "priority", "payload", "enqueued_at",
                "run_after", "started_at", "finished_at", "attempts", "worker_id", "return_value",
            )
            .first()
        )
        if job is None:
            raise TaskResultDoesNotExist(result_id)
        task = task_for_job(
            job["task_path"],
            priority=job["priority"],
            queue_name=job["queue_name"],
            backend=self.alias,
            run_after=job["run_after"],
        )
        return build_result(
            task=task,
            id=job["id"],
            state=job["state"],
            payload=job["payload"],
            backend=self.alias,
            enqueued_at=job["enqueued_at"],
            started_at=job["started_at"],
            finished_at=job["finished_at"],
            attempts=job["attempts"],
            worker_id=job["worker_id"],
            return_value=job["return_value"],
        )

    # -- checks -------------------------------------------------------------------

    def check(self, **kwargs: Any) -> list:
        from django.apps import apps
        from django.conf import settings
        from django.core import checks

        from .config.checks import check_backend

        if not apps.is_installed("djq"):
            # Without the app there are no djq tables: the first enqueue
            # would fail with "no such table: djq_job".
            return [*super().check(**kwargs), checks.Error(
                f"TASKS[{self.alias!r}] uses djq's backend but 'djq' is not in INSTALLED_APPS",
                hint="add \"djq\" to INSTALLED_APPS, then create its tables with `djq migrate` "
                     "(or `python manage.py migrate`)",
                id="djq.E002",
            )]
        messages = [*super().check(**kwargs), *check_backend(self.alias)]
        if messages:
            return messages
        database = settings.DATABASES.get(self.database, {})
        if database.get("ENGINE") == "django.db.backends.sqlite3" and (
            database.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE"
        ):
            messages.append(checks.Warning(
                f"SQLite database {self.database!r} of djq backend {self.alias!r} does not use IMMEDIATE transactions",
                hint="set DATABASES[...]['OPTIONS']['transaction_mode'] = 'IMMEDIATE' (and a timeout of 20 or more)"
                " so that concurrent djq processes wait for each other instead of failing with 'database is locked'",
                id="djq.W001",
            ))
        return messages
