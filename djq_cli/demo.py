"""The embedded default's demo workload: quick, slow, flaky and scheduled jobs."""

import logging
import random
import time
from datetime import timedelta

from django.tasks import task
from django.utils import timezone


@task
def greet(name: str) -> str:
    return f"hello, {name}"


@task
def crunch(seconds: float) -> dict:
    """A slow job."""
    time.sleep(seconds)
    return {"slept": seconds}


@task
def flaky(chance: float) -> str:
    """Fails about ``chance`` of the time, to show failed jobs."""
    if random.random() < chance:
        raise RuntimeError("the demo flaked, as it does now and then")
    return "ok"


logger = logging.getLogger("djq.demo")

#: How long a demo report waits as "scheduled" before it runs: long enough to see it in `djq jobs list`.
REPORT_DELAY = 20


@task(queue_name="reports", priority=10)
def report(title: str) -> str:
    """Enqueued to run REPORT_DELAY seconds later."""
    return f"report {title!r} done"


@task
def feed() -> int:
    """Enqueue one round of demo work (run every few seconds by the scheduler)."""
    names = ["ada", "grace", "linus", "guido", "barbara"]
    greet.enqueue(random.choice(names))
    crunch.enqueue(round(random.uniform(0.5, 2.5), 1))
    flaky.enqueue(0.4)
    due = timezone.now() + timedelta(seconds=REPORT_DELAY)
    later = report.using(run_after=due).enqueue(timezone.now().strftime("%H:%M:%S"))
    logger.info("job %s %s scheduled to run at %s (djq jobs list --state scheduled shows it until then)",
                later.id, report.module_path, due.strftime("%H:%M:%S"))
    return 4
