"""Retention as an operator verb: ``djq prune`` and friends."""

from __future__ import annotations

from collections.abc import Callable

from ..engine import retention
from ..engine.handle import handle
from ..engine.retention import PruneResult

__all__ = ["PruneResult", "prune", "retention_defaults"]


def retention_defaults(backend_alias: str) -> dict[str, float | None]:
    """The ages the backend's ``clear_*`` options set, by kind (``None``: kept)."""
    cfg = handle(backend_alias).config
    return {"finished": cfg.clear_finished_jobs_after, "failed": cfg.clear_failed_jobs_after,
            "recurring_executions": cfg.clear_recurring_executions_after}


def prune(
    backend_alias: str,
    *,
    finished_older_than: float | None = None,
    failed_older_than: float | None = None,
    recurring_older_than: float | None = None,
    task_path: str | None = None,
    task_key: str | None = None,
    batch_size: int = 1000,
    max_batches: int = 100,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PruneResult:
    """Delete expired rows of ``backend_alias``; ``None`` for an age keeps that kind.

    ``progress`` is called after each committed batch with the rows it deleted.
    """
    return retention.prune(
        handle(backend_alias).database, backend_alias=backend_alias, finished_older_than=finished_older_than,
        failed_older_than=failed_older_than, recurring_older_than=recurring_older_than, task_path=task_path,
        task_key=task_key, batch_size=batch_size, max_batches=max_batches, dry_run=dry_run,
        progress=progress,
    )
