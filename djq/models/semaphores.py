from django.db import models


class Semaphore(models.Model):
    """Free slots of one concurrency key, shared by every backend on the database.

    ``value`` counts free slots; a job takes one when it becomes ready and
    gives it back when it finishes. ``expires_at`` bounds how long a slot can
    leak if its holder dies without giving it back.
    """

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=255, unique=True, db_column="concurrency_key")
    value = models.IntegerField()
    limit = models.IntegerField(db_column="slot_limit")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "djq_semaphore"
        indexes = [models.Index(fields=["expires_at"], name="djq_semaphore_expiry")]
