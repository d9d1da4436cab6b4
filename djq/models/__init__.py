"""djq's tables. A job is one row in ``djq_job``; its ``state`` column says where it is."""

from .jobs import Job, JobState
from .processes import Process
from .queues import Pause
from .recurring import RecurringExecution, RecurringTask
from .semaphores import Semaphore
from .throughput import Throughput

__all__ = [
    "Job",
    "JobState",
    "Pause",
    "Process",
    "RecurringExecution",
    "RecurringTask",
    "Semaphore",
    "Throughput",
]
