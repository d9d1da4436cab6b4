"""The scheduler: fires recurring tasks and applies the retention settings."""

from __future__ import annotations

import logging
import time

from django.tasks import task_backends
from django.utils import timezone

from ..config import BackendConfig
from ..engine import recurring, retention
from .base import DB_ERRORS, Runner

logger = logging.getLogger("djq.runtime")

#: Retention runs at most this often; each run deletes a bounded number of rows.
CLEANUP_INTERVAL = 60.0
CLEANUP_BATCHES = 10


class Scheduler(Runner):
    kind = "scheduler"

    def __init__(self, config: BackendConfig, *, name: str = "scheduler", supervisor_id: int | None = None):
        super().__init__(config, name=name, supervisor_id=supervisor_id)
        self.scheduler = config.scheduler
        self._next_cleanup = 0.0
        self._synced = False

    @property
    def metadata(self) -> dict:
        return {"recurring": [t.key for t in self.config.recurring],
                "dynamic_tasks_enabled": self.scheduler.dynamic_tasks_enabled}

    @property
    def backend(self):
        return task_backends[self.config.alias]

    def main(self) -> None:
        while not self.stopping.is_set():
            try:
                if not self._synced:
                    recurring.sync_static(self.database, self.config.alias, self.config.recurring)
                    self._synced = True
                self.tick()
                wait = self._seconds_to_next_slot()
                self.heartbeat_if_due()
                self.outage_over()
            except DB_ERRORS as exc:
                self.outage(exc)
                continue
            self.sleep(min(wait, self.scheduler.polling_interval, self.seconds_to_heartbeat()))

    def tick(self) -> None:
        now = timezone.now()
        recurring.fire_due(self.backend, now, dynamic=self.scheduler.dynamic_tasks_enabled)
        if time.monotonic() >= self._next_cleanup:
            self._next_cleanup = time.monotonic() + CLEANUP_INTERVAL
            self.cleanup()

    def cleanup(self) -> None:
        cfg = self.config
        finished_age = cfg.clear_finished_jobs_after if cfg.preserve_finished_jobs else 0
        result = retention.prune(
            self.database,
            backend_alias=cfg.alias,
            finished_older_than=finished_age,
            failed_older_than=cfg.clear_failed_jobs_after,
            recurring_older_than=cfg.clear_recurring_executions_after,
            batch_size=500,
            max_batches=CLEANUP_BATCHES,
        )
        retention.prune_throughput(self.database, cfg.alias)
        if result.total:
            logger.info("retention removed %d finished, %d failed jobs and %d recurring executions",
                        result.finished, result.failed, result.recurring_executions)

    def _seconds_to_next_slot(self) -> float:
        upcoming = recurring.next_due_at(self.database, self.config.alias,
                                         dynamic=self.scheduler.dynamic_tasks_enabled)
        if upcoming is None:
            return self.scheduler.polling_interval
        return max(0.0, (upcoming - timezone.now()).total_seconds())

    @property
    def wanted(self) -> bool:
        """Whether this backend needs a scheduler at all."""
        cfg = self.config
        return bool(cfg.recurring or cfg.scheduler.dynamic_tasks_enabled or cfg.clear_finished_jobs_after
                    or cfg.clear_failed_jobs_after or cfg.clear_recurring_executions_after
                    or not cfg.preserve_finished_jobs)
