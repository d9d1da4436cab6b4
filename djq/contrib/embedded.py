"""An async-mode supervisor on a background thread, for servers that own the process and its signals."""

from __future__ import annotations

import logging
import threading

from ..config import get_config
from ..runtime.launch import build_supervisor
from ..runtime.threaded import AsyncSupervisor

logger = logging.getLogger("djq.runtime")


class EmbeddedRuntime:
    """Start and stop djq's runtime (async mode, no signal handlers) from a host server."""

    def __init__(self, backend_alias: str = "default", *, skip_recurring: bool = False,
                 migration_wait_timeout: float = 60.0) -> None:
        self.backend_alias = backend_alias
        self.skip_recurring = skip_recurring
        self.migration_wait_timeout = migration_wait_timeout
        self.supervisor: AsyncSupervisor | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        config = get_config(self.backend_alias, overrides={"mode": "async"})
        self.supervisor = build_supervisor(config, skip_recurring=self.skip_recurring,
                                           migration_wait_timeout=self.migration_wait_timeout, standalone=False)
        self.thread = threading.Thread(target=self._run, name=f"djq-{self.backend_alias}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.supervisor.run()
        except Exception:
            logger.exception("the embedded djq runtime stopped with an error")

    def stop(self, timeout: float | None = None) -> None:
        if self.supervisor is None or self.thread is None:
            return
        self.supervisor.stop()
        wait = timeout if timeout is not None else self.supervisor.config.shutdown_timeout + 5
        self.thread.join(wait)
        self.thread = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()
