from django.db import models


class Pause(models.Model):
    """A paused queue of one backend alias: its presence stops claims."""

    id = models.BigAutoField(primary_key=True)
    backend_alias = models.CharField(max_length=64)
    queue_name = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "djq_pause"
        constraints = [
            models.UniqueConstraint(fields=["backend_alias", "queue_name"], name="djq_pause_unique"),
        ]
