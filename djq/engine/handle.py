"""One handle per backend alias: its config, database and dialect, built once.

Every engine and operations function works from a ``Handle`` so that the
backend's ``use_skip_locked`` and ``listen_notify`` options reach every
statement that locks rows or wakes workers, not only the hot path.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from ..config import BackendConfig, get_config


@dataclass(frozen=True)
class Handle:
    alias: str
    config: BackendConfig

    @property
    def database(self) -> str:
        return self.config.database_alias

    @cached_property
    def dialect(self):
        from ..db.sql import dialect_for

        return dialect_for(self.database, use_skip_locked=self.config.use_skip_locked,
                           notify=self.config.listen_notify)

    @property
    def skip_locked(self) -> bool:
        """Whether ORM ``select_for_update`` may skip locked rows here (as the dialect's SQL does)."""
        return self.config.use_skip_locked and self.dialect.vendor != "sqlite"


_handles: dict[str, Handle] = {}
_lock = threading.Lock()


def handle(alias: str) -> Handle:
    """The handle of ``alias``; rebuilt when its configuration is reloaded."""
    config = get_config(alias)
    with _lock:
        found = _handles.get(alias)
        if found is None or found.config is not config:
            found = _handles[alias] = Handle(alias, config)
        return found
