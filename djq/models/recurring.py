from django.db import models


class RecurringTask(models.Model):
    """A task enqueued on a cron schedule: static (from settings) or dynamic (from the API)."""

    id = models.BigAutoField(primary_key=True)
    backend_alias = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    task_path = models.CharField(max_length=255)
    schedule = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    queue_name = models.CharField(max_length=64, default="default")
    priority = models.SmallIntegerField(default=0)
    description = models.TextField(blank=True, default="")
    static = models.BooleanField(default=True)
    paused = models.BooleanField(default=False)
    #: The next slot to fire; only ever moves forward, so a slot whose
    #: execution row was pruned never fires twice.
    next_run_at = models.DateTimeField(null=True)
    last_run_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "djq_recurring_task"
        constraints = [
            models.UniqueConstraint(fields=["backend_alias", "key"], name="djq_recurring_task_unique"),
        ]


class RecurringExecution(models.Model):
    """One fired slot of a recurring task; its unique row is the dedupe across schedulers."""

    id = models.BigAutoField(primary_key=True)
    backend_alias = models.CharField(max_length=64)
    task_key = models.CharField(max_length=255)
    run_at = models.DateTimeField()
    job_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "djq_recurring_execution"
        constraints = [
            models.UniqueConstraint(
                fields=["backend_alias", "task_key", "run_at"], name="djq_recurring_execution_unique"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="djq_recurring_execution_age")]
