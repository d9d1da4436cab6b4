"""The djq exception hierarchy.

Every class's docstring is the message a user sees when nothing more specific
is known: it says what happened and what to do about it. The CLI prints one
line from these and never a traceback.
"""

from django.core.exceptions import ImproperlyConfigured
from django.tasks.exceptions import InvalidTask


class DjqError(Exception):
    """djq could not complete the operation."""

    def __str__(self) -> str:
        text = super().__str__()
        return text or (self.__doc__ or "").strip().splitlines()[0]


class ConfigurationError(DjqError, ImproperlyConfigured):
    """The djq configuration is invalid; fix the option named in the message."""


class EnqueueError(DjqError):
    """The job was rejected before anything was stored; fix the task call or its options."""


class InvalidTaskOptions(EnqueueError, InvalidTask):
    """The task's options are invalid for this backend (a queue outside QUEUES, a priority out of range).

    Also Django's ``InvalidTask``, as Django documents for an invalid task.
    """


class ArgumentsNotSerializable(EnqueueError, TypeError):
    """The arguments do not round-trip through JSON; pass plain JSON values (str, int, float, bool, None, lists,
    dicts with string keys).

    Also a ``TypeError``, as Django documents for arguments that do not serialise.
    """


class TaskPathError(EnqueueError):
    """The task path names no task; fix the path (the message suggests the nearest one)."""


class TaskPathUnchecked(TaskPathError):
    """The task path's package cannot be imported here (no application code), so it could not be checked."""


class JobNotFound(DjqError):
    """No job has that id; list jobs with `djq jobs list`."""


class InvalidStateError(DjqError):
    """The job is not in a state that allows this operation."""


class UndiscardableError(InvalidStateError):
    """The job is running and cannot be discarded; wait for it to finish or fail."""


class QueueNotFound(DjqError):
    """No such queue is known to this backend."""


class RecurringTaskError(DjqError):
    """The recurring task is invalid or unknown."""


class RuntimeAlreadyRunning(DjqError):
    """Another supervisor holds the pidfile; stop it or use a different pidfile."""


class MigrationsPending(DjqError):
    """djq's tables are missing or out of date; run `djq migrate`."""


class ProcessExitError(DjqError):
    """The process running the job exited before the job finished."""


class ProcessPrunedError(DjqError):
    """The process running the job stopped sending heartbeats and was pruned."""


class ProcessMissingError(DjqError):
    """The job was claimed by a process that is no longer registered."""


class ResultSerializationError(DjqError):
    """The task returned a value that cannot be stored as JSON."""
