"""Building the supervisor a configuration asks for (fork or async mode).

Kept apart from ``supervisor.py`` so that the two modes can import the
shared ``Supervisor`` without a circle.
"""

from __future__ import annotations

from ..config import BackendConfig
from .supervisor import Supervisor, plan


def build_supervisor(config: BackendConfig, *, only_work: bool = False, only_dispatch: bool = False,
                     skip_recurring: bool = False, migration_wait_timeout: float = 60.0,
                     standalone: bool = True) -> Supervisor:
    slots = plan(config, only_work=only_work, only_dispatch=only_dispatch, skip_recurring=skip_recurring)
    if config.mode == "async":
        from .threaded import AsyncSupervisor as cls
    else:
        from .fork import ForkSupervisor as cls
    return cls(config, slots, migration_wait_timeout=migration_wait_timeout, standalone=standalone)
