"""Fixed data and a frozen clock for the snapshot tests: the same picture on every run and every machine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from djq_cli.tui.data import (
    PAGE_SIZE,
    Attempt,
    Busy,
    Counted,
    JobDetailView,
    JobFilters,
    JobPage,
    JobView,
    Minute,
    Overview,
    Processes,
    ProcessView,
    Queues,
    QueueView,
    Recurring,
    RecurringView,
    Semaphores,
    SemaphoreView,
)

T = TypeVar("T")
NOW = datetime(2026, 12, 1, 3, 14, 15, tzinfo=UTC)
TRACEBACK = """Traceback (most recent call last):
  File "/srv/app/djq/engine/execution.py", line 104, in execute
    value = job.task.call(*args, **kwargs)
  File "/srv/app/shop/tasks.py", line 42, in send_receipt
    response = mailer.send(order.customer_email, render("receipt.txt", order=order))
  File "/srv/app/shop/mail.py", line 17, in send
    raise TimeoutError(f"SMTP server did not answer in {self.timeout}s")
TimeoutError: SMTP server did not answer in 30s
"""


def clock() -> datetime:
    return NOW


def _c(n: int, exact: bool = True) -> Counted:
    return Counted(n, exact)


QUEUES = (
    QueueView("default", _c(1204), _c(12), _c(6), _c(0), _c(3), 4.2, False),
    QueueView("emails", _c(10_000, False), _c(0), _c(2), _c(0), _c(57), 312.0, True),
    QueueView("reports", _c(0), _c(8), _c(1), _c(0), _c(0), None, False),
    QueueView("webhooks", _c(33), _c(0), _c(4), _c(12), _c(1), 0.4, False),
)


def _job(i: int, state: str, **kw) -> JobView:
    base = dict(id=i, queue="emails" if i % 3 else "default", task="shop.tasks.send_receipt", state=state,
                priority=0, attempts=1, enqueued_at=NOW - timedelta(minutes=i % 50 + 1),
                scheduled_at=NOW - timedelta(minutes=i % 50 + 1), started_at=None, finished_at=None, worker=None,
                last_error=None)
    base.update(kw)
    return JobView(**base)


def _jobs(state: str) -> tuple[JobView, ...]:
    out = []
    for n in range(24):
        i = 48_210 - n * 7
        if state == "failed":
            out.append(_job(i, state, attempts=3, finished_at=NOW - timedelta(seconds=40 * n + 5),
                            started_at=NOW - timedelta(seconds=40 * n + 36),
                            last_error="TimeoutError: SMTP server did not answer in 30s" if n % 4
                            else "ConnectionRefusedError: [Errno 111] Connection refused"))
        elif state == "claimed":
            out.append(_job(i, state, started_at=NOW - timedelta(seconds=n * 3 + 1), worker="worker-1.4242@web-1"))
        elif state == "finished":
            out.append(_job(i, state, finished_at=NOW - timedelta(seconds=n * 2 + 1), worker="worker-2.4243@web-1"))
        elif state == "scheduled":
            out.append(_job(i, state, scheduled_at=NOW + timedelta(minutes=n + 1)))
        else:
            out.append(_job(i, state, priority=10 if n < 3 else 0))
    return tuple(out)


PROCESSES = (
    ProcessView(1, "supervisor", "supervisor-4240", "web-1", 4240, None, (), None, 2.1, True, 0),
    ProcessView(2, "worker", "worker-1", "web-1", 4242, 1, ("default", "emails"), 8, 1.3, True, 6,
                (48210, 48203, 48196, 48189, 48182, 48175)),
    ProcessView(3, "worker", "worker-2", "web-1", 4243, 1, ("reports", "webhooks*"), 4, 2.9, True, 1, (48112,)),
    ProcessView(4, "dispatcher", "dispatcher-1", "web-1", 4244, 1, (), None, 0.8, True, 0),
    ProcessView(5, "scheduler", "scheduler", "web-1", 4245, 1, (), None, 4.0, True, 0),
    ProcessView(6, "supervisor", "supervisor-977", "web-2", 977, None, (), None, 412.0, False, 0),
    ProcessView(7, "worker", "worker-1", "web-2", 981, 6, ("*",), 8, 415.5, False, 0),
)

RECURRING = (
    RecurringView("nightly-report", "shop.tasks.nightly_report", "0 3 * * *", "At 03:00", "reports",
                  NOW + timedelta(hours=23, minutes=46), NOW - timedelta(minutes=14), "finished", False, True),
    RecurringView("prune-carts", "shop.tasks.prune_carts", "*/15 * * * *", "Every 15 minutes", "default",
                  None, NOW - timedelta(minutes=44), "failed", True, True),
    RecurringView("ping-partner", "shop.tasks.ping", "@hourly", "Every hour", "webhooks",
                  NOW + timedelta(minutes=46), NOW - timedelta(minutes=14), "finished", False, False),
)

SEMAPHORES = (
    SemaphoreView("account:42", 0, 1, 1, 12, NOW + timedelta(seconds=48)),
    SemaphoreView("partner-api", 2, 5, 3, 0, NOW + timedelta(minutes=2)),
)


def _throughput() -> tuple[Minute, ...]:
    end = NOW.replace(second=0)
    points = []
    for i in range(60):
        minute = end - timedelta(minutes=59 - i)
        finished = 40 + (i * 37) % 50 + (30 if 20 <= i < 30 else 0)
        failed = (i * 7) % 5 if i % 6 else 9
        points.append(Minute(minute, finished, failed))
    return tuple(points)


class FixedSource:
    backend_alias = "default"

    def run(self, fn: Callable[[], T], *, read: bool = True) -> T:
        return fn()

    def overview(self) -> Overview:
        return Overview(
            totals={"ready": _c(10_000, False), "scheduled": _c(20), "claimed": _c(13), "blocked": _c(12),
                    "failed": _c(61), "finished": _c(10_000, False)},
            throughput=_throughput(), oldest_ready_age=312.0,
            processes={"supervisor": (1, 1), "worker": (2, 1), "dispatcher": (1, 0), "scheduler": (1, 0)},
            paused_queues=("emails",),
            busiest=(Busy("default", 2210, 31, False), Busy("emails", 1630, 57, True),
                     Busy("webhooks", 402, 1, False), Busy("reports", 60, 0, False)),
            generated_at=NOW,
        )

    def queues(self) -> Queues:
        return Queues(QUEUES)

    def job_page(self, state: str, filters: JobFilters, cursor: Any = None) -> JobPage:
        rows = _jobs(state)
        total = {"failed": _c(61), "ready": _c(10_000, False), "finished": _c(10_000, False)}.get(state, _c(len(rows)))
        return JobPage(state, rows[:PAGE_SIZE], total, next_cursor="p2" if not total.exact else None)

    def job_detail(self, job_id: int) -> JobDetailView:
        job = _job(job_id, "failed", attempts=3, queue="emails", started_at=NOW - timedelta(seconds=36),
                   finished_at=NOW - timedelta(seconds=5), worker="worker-1.4242@web-1",
                   last_error="TimeoutError: SMTP server did not answer in 30s")
        attempts = tuple(
            Attempt(n, f"worker-{n}.42{n}@web-1", NOW - timedelta(minutes=10 - n * 3, seconds=31),
                    NOW - timedelta(minutes=10 - n * 3), 30.2 + n, "builtins.TimeoutError",
                    "SMTP server did not answer in 30s", TRACEBACK)
            for n in (1, 2, 3))
        return JobDetailView(job, ["order-1842"], {"customer": {"email": "ada@example.com", "vip": True},
                                                   "retries": 3}, None, attempts, None, None)

    def processes(self) -> Processes:
        return Processes(PROCESSES)

    def recurring(self) -> Recurring:
        return Recurring(RECURRING)

    def semaphores(self) -> Semaphores:
        return Semaphores(SEMAPHORES)
