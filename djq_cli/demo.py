"""The embedded default's demo workload: quick, slow, flaky and scheduled jobs."""

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


@task(queue_name="reports", priority=10)
def report(title: str) -> str:
    """Enqueued to run a few seconds later."""
    return f"report {title!r} done"


@task
def feed() -> int:
    """Enqueue one round of demo work (run every few seconds by the scheduler)."""
    names = ["ada", "grace", "linus", "guido", "barbara"]
    greet.enqueue(random.choice(names))
    crunch.enqueue(round(random.uniform(0.5, 2.5), 1))
    flaky.enqueue(0.4)
    report.using(run_after=timezone.now() + timedelta(seconds=6)).enqueue(timezone.now().strftime("%H:%M:%S"))
    return 4
