"""Dispatchers: make due scheduled jobs ready and keep concurrency slots honest."""

from __future__ import annotations

import logging
import time

from django.utils import timezone

from ..config import BackendConfig, DispatcherConfig
from ..engine import slots
from .base import DB_ERRORS, Runner

logger = logging.getLogger("djq.runtime")


class Dispatcher(Runner):
    kind = "dispatcher"

    def __init__(self, config: BackendConfig, dispatcher: DispatcherConfig, *, name: str,
                 supervisor_id: int | None = None):
        super().__init__(config, name=name, supervisor_id=supervisor_id)
        self.dispatcher = dispatcher
        self.dialect = self.handle.dialect
        self._next_maintenance = 0.0

    @property
    def metadata(self) -> dict:
        return {"batch_size": self.dispatcher.batch_size, "polling_interval": self.dispatcher.polling_interval}

    def main(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.dispatch_once()
                self.heartbeat_if_due()
                self.outage_over()
            except DB_ERRORS as exc:
                self.outage(exc)
                continue
            if not busy:
                self.sleep(min(self.dispatcher.polling_interval, self.seconds_to_heartbeat()))

    def dispatch_once(self) -> bool:
        """One round; True when a full batch was promoted and more may be due."""
        now = timezone.now()
        batch = self.dispatcher.batch_size
        promoted, limited_due = self.dialect.promote_due_and_check(self.config.alias, now, batch)
        if limited_due:
            promoted += slots.dispatch_due_limited(self.handle, now, batch)
        if promoted and not self.config.silence_polling:
            logger.info("%s promoted %d scheduled jobs", self.name, promoted)
        if self.dispatcher.concurrency_maintenance and time.monotonic() >= self._next_maintenance:
            self._next_maintenance = time.monotonic() + self.dispatcher.concurrency_maintenance_interval
            slots.maintain(self.handle, now)
        return promoted >= batch
