"""djq configuration: typed, frozen options for each backend alias.

``get_config(alias)`` merges settings, a YAML overlay, the environment and
command-line overrides (see :mod:`djq.config.loader` for the rules) and
returns a :class:`BackendConfig`; ``validate(alias)`` lists every problem
instead of raising on the first.
"""

from djq.config.loader import (
    clear_cache,
    djq_aliases,
    get_config,
    skip_recurring_from_env,
    validate,
)
from djq.config.schema import (
    DJQ_BACKEND_PATH,
    BackendConfig,
    DispatcherConfig,
    RecurringTaskConfig,
    RetryPolicy,
    SchedulerConfig,
    WorkerConfig,
    queue_matches,
)

__all__ = [
    "DJQ_BACKEND_PATH",
    "BackendConfig",
    "DispatcherConfig",
    "RecurringTaskConfig",
    "RetryPolicy",
    "SchedulerConfig",
    "WorkerConfig",
    "clear_cache",
    "djq_aliases",
    "get_config",
    "queue_matches",
    "skip_recurring_from_env",
    "validate",
]
