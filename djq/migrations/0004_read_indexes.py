"""The indexes behind the read models: every job page and capped count is an index range scan.

Each state's page order (``djq.ops.jobs.ORDERS``) has an index in that
order, and each filter that narrows a big state (queue, task, exception
class) has one that leads with it, so a page reads about as many index
entries as it shows and a count stops after ``cap + 1`` of them.

PostgreSQL and SQLite get partial indexes: only ``djq_job_ended`` is on
the hot path, where it replaces ``djq_job_done`` (one index entry per
finish, as before). They are few on purpose: every statement that writes
a job opens, locks and checks every index of the table, so each index
costs the claim and the finish something even when it gets no entry.
MySQL and MariaDB have no partial indexes; there the state leads a full
index, as in migration 0002.

Jobs failed before this migration get their last error's class and
message copied from their attempt history.
"""

from django.db import migrations

PARTIAL = [
    # Every ended job, newest first per state (pages, totals, retention); INCLUDE lets a
    # queue or task filter run on the index alone. Replaces djq_job_done.
    "CREATE INDEX djq_job_ended ON djq_job (state, backend_alias, finished_at, id){include}"
    " WHERE state IN ('finished', 'failed', 'discarded')",
    # Per-queue counts and the queue names of the states that can pile up.
    "CREATE INDEX djq_job_by_queue ON djq_job (state, backend_alias, queue_name, id)"
    " WHERE state IN ('scheduled', 'blocked', 'failed')",
    # Failed jobs of one exception class, newest first.
    "CREATE INDEX djq_job_failed_by_error ON djq_job (backend_alias, error_class, finished_at, id)"
    " WHERE state = 'failed'",
    # Each queue's latency (its oldest ready job) is the first entry of its range.
    "CREATE INDEX djq_job_ready_age ON djq_job (backend_alias, queue_name, scheduled_at) WHERE state = 'ready'",
]
PARTIAL_NAMES = [sql.split()[2] for sql in PARTIAL]

FULL = [
    "CREATE INDEX djq_job_ended ON djq_job (state, backend_alias, finished_at, id)",
    "CREATE INDEX djq_job_by_queue ON djq_job (state, backend_alias, queue_name, finished_at, id)",
    "CREATE INDEX djq_job_by_error ON djq_job (state, backend_alias, error_class, finished_at, id)",
]
FULL_NAMES = [sql.split()[2] for sql in FULL]

CASE_SENSITIVE = [
    ("djq_job", "error_class", "varchar(255) NULL"),
    ("djq_throughput", "backend_alias", "varchar(64) NOT NULL"),
    ("djq_throughput", "queue_name", "varchar(64) NOT NULL"),
    ("djq_throughput", "task_path", "varchar(255) NOT NULL"),
]

BACKFILL = {
    "postgresql": (
        "UPDATE djq_job SET error_class = attempts -> -1 -> 'error' ->> 'exception_class_path',"
        " error_message = attempts -> -1 -> 'error' ->> 'message' WHERE state = 'failed' AND error_class IS NULL"
    ),
    "sqlite": (
        "UPDATE djq_job SET error_class = json_extract(attempts, '$[#-1].error.exception_class_path'),"
        " error_message = json_extract(attempts, '$[#-1].error.message')"
        " WHERE state = 'failed' AND error_class IS NULL"
    ),
    "mysql": (
        "UPDATE djq_job SET"
        " error_class = JSON_UNQUOTE(JSON_EXTRACT(attempts,"
        " CONCAT('$[', JSON_LENGTH(attempts) - 1, '].error.exception_class_path'))),"
        " error_message = JSON_UNQUOTE(JSON_EXTRACT(attempts, CONCAT('$[', JSON_LENGTH(attempts) - 1, '].error.message')))"
        " WHERE state = 'failed' AND error_class IS NULL AND JSON_LENGTH(attempts) > 0"
    ),
}


def _binary_collation(schema_editor, table, column):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT character_set_name FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
            [table, column],
        )
        return f"{cursor.fetchone()[0]}_bin"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(BACKFILL[vendor])
    if vendor == "mysql":
        for table, column, definition in CASE_SENSITIVE:
            kind, _, null = definition.partition(" ")
            collation = _binary_collation(schema_editor, table, column)
            schema_editor.execute(f"ALTER TABLE {table} MODIFY `{column}` {kind} COLLATE {collation} {null}")
        schema_editor.execute("DROP INDEX djq_job_done ON djq_job")
        for sql in FULL:
            schema_editor.execute(sql)
        return
    schema_editor.execute("DROP INDEX djq_job_done")
    include = " INCLUDE (queue_name, task_path)" if vendor == "postgresql" else ""
    for sql in PARTIAL:
        schema_editor.execute(sql.format(include=include))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        for name in FULL_NAMES:
            schema_editor.execute(f"DROP INDEX {name} ON djq_job")
        schema_editor.execute("CREATE INDEX djq_job_done ON djq_job (state, finished_at)")
        return
    for name in PARTIAL_NAMES:
        schema_editor.execute(f"DROP INDEX {name}")
    schema_editor.execute(
        "CREATE INDEX djq_job_done ON djq_job (state, finished_at) WHERE state IN ('finished', 'failed', 'discarded')"
    )


class Migration(migrations.Migration):
    # MySQL cannot roll DDL back; each CREATE INDEX commits on its own there.
    atomic = False
    dependencies = [("djq", "0003_read_models")]

    operations = [migrations.RunPython(create, drop, elidable=False, atomic=False)]
