"""Finding the task a dotted path names, with a "did you mean" when it names nothing.

Used where a path comes from a person rather than from code: ``djq enqueue``,
recurring tasks in settings, ``djq check``. A path whose top-level package
does not import at all (standalone mode: the application's code is not here)
is ``TaskPathUnchecked``; one that names something wrong inside code that
does import is ``TaskPathError``.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Sequence
from typing import Any

from django.tasks import Task

from ..exceptions import EnqueueError, TaskPathError, TaskPathUnchecked


def _hint(name: str, candidates: Sequence[str]) -> str:
    near = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def find_task(task_path: str) -> Task:
    """The ``Task`` at ``task_path``, or a ``TaskPathError`` that says what is wrong and what is near."""
    module_path, _, name = task_path.rpartition(".")
    if not module_path or not name:
        raise TaskPathError(f"{task_path!r} is not a dotted task path (module.function)")
    parts = module_path.split(".")
    module = None
    for depth in range(1, len(parts) + 1):
        dotted = ".".join(parts[:depth])
        try:
            module = importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name != dotted:  # the module exists but imports something missing
                raise TaskPathError(f"cannot import task {task_path!r}: {exc}") from exc
            if depth == 1:
                raise TaskPathUnchecked(f"cannot import task {task_path!r}: no module named {dotted!r}") from exc
            siblings = [".".join([*parts[:depth - 1], m.name])
                        for m in pkgutil.iter_modules(getattr(module, "__path__", []))]
            raise TaskPathError(f"cannot import task {task_path!r}: no module named {dotted!r}"
                                f"{_hint(dotted, siblings)}") from exc
        except Exception as exc:
            raise TaskPathError(f"cannot import task {task_path!r}: {type(exc).__name__}: {exc}") from exc
    found = getattr(module, name, None)
    if found is None:
        tasks = [n for n, v in vars(module).items() if isinstance(v, Task)]
        raise TaskPathError(f"no task {name!r} in module {module_path!r}{_hint(name, tasks)}")
    if not isinstance(found, Task):
        kind = "a function" if inspect.isfunction(found) else f"a {type(found).__name__}"
        raise TaskPathError(f"{task_path!r} is {kind}, not a task; decorate it with @task")
    return found


def check_arguments(task: Task, args: Sequence, kwargs: dict[str, Any]) -> None:
    """Refuse arguments the task's function cannot take, quoting its signature."""
    try:
        try:
            signature = inspect.signature(task.func, eval_str=True)  # `a: int`, not `a: 'int'`
        except Exception:
            signature = inspect.signature(task.func)
    except (TypeError, ValueError):  # a builtin or C function: nothing to compare with
        return
    if task.takes_context:
        parameters = list(signature.parameters.values())[1:]
        signature = signature.replace(parameters=parameters)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise EnqueueError(f"{task.module_path}{signature} cannot take these arguments: {exc}") from exc
