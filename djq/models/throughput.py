from django.db import models


class Throughput(models.Model):
    """Attempts that ended in one minute, per backend, queue and task: the throughput history.

    The finish adds to its minute's row in the same statement (PostgreSQL)
    or transaction (others) that records the outcomes, so the history is
    exact and costs the same however many jobs the table keeps. ``shard``
    spreads the rows of one minute over a few writers (the process id
    modulo ``SHARDS``) so that workers draining one queue do not queue on
    one row lock; readers sum the shards. Retention keeps a bounded window.
    """

    #: Rows per (backend, queue, task, minute), one per writer shard.
    SHARDS = 4

    # The key is the primary key: one index to find the row an upsert adds to, no sequence.
    pk = models.CompositePrimaryKey("backend_alias", "minute", "queue_name", "task_path", "shard")
    backend_alias = models.CharField(max_length=64)
    minute = models.DateTimeField()
    queue_name = models.CharField(max_length=64)
    task_path = models.CharField(max_length=255)
    shard = models.SmallIntegerField(default=0)
    #: Jobs that ended finished / failed (for good) in this minute.
    finished = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    #: Every attempt that ended (retries too): the seconds it ran, and the
    #: seconds from its due time to its start (pickup latency).
    run_seconds = models.FloatField(default=0)
    runs = models.IntegerField(default=0)
    pickup_seconds = models.FloatField(default=0)
    pickups = models.IntegerField(default=0)

    class Meta:
        db_table = "djq_throughput"
