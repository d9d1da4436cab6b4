from django.db import models


class Process(models.Model):
    """A live runtime process: supervisor, worker, dispatcher or scheduler.

    Rows are inserted at start, heartbeat while the process lives and are
    deleted when it stops. A row whose heartbeat is older than
    ``process_alive_threshold`` belongs to a dead process: the supervisor
    prunes it and fails the jobs it held.
    """

    id = models.BigAutoField(primary_key=True)
    backend_alias = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)
    name = models.CharField(max_length=128)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    supervisor_id = models.BigIntegerField(null=True)
    metadata = models.JSONField(default=dict)
    last_heartbeat_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "djq_process"
        indexes = [
            models.Index(fields=["backend_alias", "last_heartbeat_at"], name="djq_process_alive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} (pid {self.pid} on {self.hostname})"
