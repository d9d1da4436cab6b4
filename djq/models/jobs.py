from django.db import models

from ..states import JobState

#: Choices for the state column, from the Django-free ``djq.states``.
STATE_CHOICES = [(s.value, s.name.capitalize()) for s in JobState]


class Job(models.Model):
    """One unit of work and, once it ran, its result and attempt history.

    A single table with a state column keeps every transition to one row
    write: enqueue is one INSERT, a claim one UPDATE per batch, a finish one
    UPDATE per batch. The claim and maintenance paths read partial indexes
    (see migration 0002) that only hold the rows of their state, so they stay
    small however many finished rows are kept.
    """

    id = models.BigAutoField(primary_key=True)
    backend_alias = models.CharField(max_length=64)
    queue_name = models.CharField(max_length=64)
    task_path = models.CharField(max_length=255)
    priority = models.SmallIntegerField(default=0)
    state = models.CharField(max_length=9, choices=STATE_CHOICES)
    #: ``{"args": [...], "kwargs": {...}}``, exactly as enqueued.
    payload = models.JSONField()
    enqueued_at = models.DateTimeField()
    #: When the job may run: its ``run_after``, a retry's due time, or the
    #: enqueue time. For a ready job, the age of this is its queue latency.
    scheduled_at = models.DateTimeField()
    #: Start of the current (or last) attempt.
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    #: Finished attempts, oldest first: ``{"worker_id", "started_at",
    #: "finished_at", "error": null | {"exception_class_path", "message", "traceback"}}``.
    attempts = models.JSONField(default=list)
    return_value = models.JSONField(null=True)
    #: The runtime process holding a claimed job, and its name (kept as text
    #: because process rows go away with their process).
    process_id = models.BigIntegerField(null=True)
    worker_id = models.CharField(max_length=128, null=True)
    concurrency_key = models.CharField(max_length=255, null=True)
    concurrency_limit = models.IntegerField(null=True)
    concurrency_duration = models.FloatField(null=True)
    concurrency_on_conflict = models.CharField(max_length=7, null=True)
    #: A blocked job waits for a slot until this time, then maintenance retries it.
    blocked_until = models.DateTimeField(null=True)
    #: The recurring task that enqueued this job, if any.
    recurring_key = models.CharField(max_length=255, null=True)
    #: The last attempt error's exception class path and message, written by
    #: the finish with the attempt that raised it, so that listings filter
    #: on them in SQL (the full history stays in ``attempts``).
    error_class = models.CharField(max_length=255, null=True)
    error_message = models.TextField(null=True)

    class Meta:
        db_table = "djq_job"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__gte=-100, priority__lte=100),
                name="djq_job_priority_range",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.task_path} [{self.state}]"
