"""The indexes behind each hot path, written per vendor.

PostgreSQL and SQLite get partial indexes: each holds only the rows of one
state, so the claim, promotion and recovery paths walk small indexes in the
order they need, however many finished rows the table keeps. MySQL and
MariaDB have no partial indexes; there the state leads a full index instead.
"""

from django.db import migrations

PARTIAL = [
    # Claims of one queue (or one prefix): walk in claim order, no sort.
    "CREATE INDEX djq_job_ready_by_queue ON djq_job (backend_alias, queue_name, priority DESC, id)"
    " WHERE state = 'ready'",
    # Claims across every queue ("*").
    "CREATE INDEX djq_job_ready ON djq_job (backend_alias, priority DESC, id) WHERE state = 'ready'",
    # Dispatcher promotion of due scheduled jobs.
    "CREATE INDEX djq_job_due ON djq_job (backend_alias, scheduled_at) WHERE state = 'scheduled'",
    # Recovery of the jobs a dead process held.
    "CREATE INDEX djq_job_claimed ON djq_job (process_id) WHERE state = 'claimed'",
    # Handing a freed concurrency slot to the next blocked job, and expiry.
    "CREATE INDEX djq_job_blocked ON djq_job (concurrency_key, priority DESC, id) WHERE state = 'blocked'",
    # Retention and listings of finished, failed and discarded jobs.
    "CREATE INDEX djq_job_done ON djq_job (state, finished_at)"
    " WHERE state IN ('finished', 'failed', 'discarded')",
]

FULL = [
    "CREATE INDEX djq_job_ready_by_queue ON djq_job (state, backend_alias, queue_name, priority DESC, id)",
    "CREATE INDEX djq_job_ready ON djq_job (state, backend_alias, priority DESC, id)",
    "CREATE INDEX djq_job_due ON djq_job (state, backend_alias, scheduled_at)",
    "CREATE INDEX djq_job_claimed ON djq_job (state, process_id)",
    "CREATE INDEX djq_job_blocked ON djq_job (state, concurrency_key, priority DESC, id)",
    "CREATE INDEX djq_job_done ON djq_job (state, finished_at)",
]

NAMES = [
    "djq_job_ready_by_queue",
    "djq_job_ready",
    "djq_job_due",
    "djq_job_claimed",
    "djq_job_blocked",
    "djq_job_done",
]


# MySQL and MariaDB compare text without regard to case by default; queue
# names, aliases and keys are case-sensitive everywhere else in djq.
CASE_SENSITIVE = [
    ("djq_job", "backend_alias", "varchar(64) NOT NULL"),
    ("djq_job", "queue_name", "varchar(64) NOT NULL"),
    ("djq_job", "task_path", "varchar(255) NOT NULL"),
    ("djq_job", "concurrency_key", "varchar(255) NULL"),
    ("djq_pause", "backend_alias", "varchar(64) NOT NULL"),
    ("djq_pause", "queue_name", "varchar(64) NOT NULL"),
    ("djq_semaphore", "concurrency_key", "varchar(255) NOT NULL"),
    ("djq_recurring_task", "backend_alias", "varchar(64) NOT NULL"),
    ("djq_recurring_task", "key", "varchar(255) NOT NULL"),
    ("djq_recurring_execution", "backend_alias", "varchar(64) NOT NULL"),
    ("djq_recurring_execution", "task_key", "varchar(255) NOT NULL"),
]


def _binary_collation(schema_editor, table, column):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT character_set_name FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
            [table, column],
        )
        return f"{cursor.fetchone()[0]}_bin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        for table, column, definition in CASE_SENSITIVE:
            kind, _, null = definition.partition(" ")
            collation = _binary_collation(schema_editor, table, column)
            schema_editor.execute(f"ALTER TABLE {table} MODIFY `{column}` {kind} COLLATE {collation} {null}")
    statements = FULL if schema_editor.connection.vendor == "mysql" else PARTIAL
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    suffix = " ON djq_job" if schema_editor.connection.vendor == "mysql" else ""
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX {name}{suffix}")


class Migration(migrations.Migration):
    # MySQL cannot roll DDL back; each CREATE INDEX commits on its own there.
    atomic = False
    dependencies = [("djq", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False, atomic=False)]
