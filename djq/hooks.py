"""Lifecycle hooks: callbacks that run when runtime processes start, stop and exit.

Register them before the runtime starts (in an AppConfig.ready, say). Each
callback receives the live supervisor or runner object. They run in
registration order; one that raises is reported to ``on_thread_error`` and
neither stops the next hook nor the runtime.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

KINDS = ("supervisor", "worker", "dispatcher", "scheduler")
MOMENTS = ("start", "stop", "exit")
EVENTS = tuple(f"{k}.{m}" for k in KINDS for m in MOMENTS)

Hook = Callable[[Any], Any]
_registry: dict[str, list[Hook]] = defaultdict(list)


def register_hook(event: str) -> Callable[[Hook], Hook]:
    """Decorator registering a callback for ``"<kind>.<start|stop|exit>"``."""
    if event not in EVENTS:
        from difflib import get_close_matches

        close = get_close_matches(event, EVENTS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown hook event {event!r}{hint}")

    def decorator(func: Hook) -> Hook:
        _registry[event].append(func)
        return func

    return decorator


def run_hooks(event: str, process: Any, on_error: Callable[[BaseException], None]) -> None:
    for hook in list(_registry.get(event, ())):
        try:
            hook(process)
        except Exception as exc:
            on_error(exc)


def clear_hooks() -> None:
    """Forget every registered hook (for tests)."""
    _registry.clear()


on_start = register_hook("supervisor.start")
on_stop = register_hook("supervisor.stop")
on_exit = register_hook("supervisor.exit")
on_worker_start = register_hook("worker.start")
on_worker_stop = register_hook("worker.stop")
on_worker_exit = register_hook("worker.exit")
on_dispatcher_start = register_hook("dispatcher.start")
on_dispatcher_stop = register_hook("dispatcher.stop")
on_dispatcher_exit = register_hook("dispatcher.exit")
on_scheduler_start = register_hook("scheduler.start")
on_scheduler_stop = register_hook("scheduler.stop")
on_scheduler_exit = register_hook("scheduler.exit")
