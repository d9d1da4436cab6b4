"""Resolve one backend alias's options from four layers into a BackendConfig.

Layers, lowest precedence first:

1. settings: ``settings.TASKS[alias]["OPTIONS"]``. With ``TASKS`` unset (or
   empty) djq manages one implicit ``default`` alias with no options.
2. YAML: the file passed as ``config_file``, else the one named by the
   ``DJQ_CONFIG`` environment variable. It is either a flat mapping of
   options, or a mapping whose only top-level key is ``backends``, mapping
   alias -> options; then only the selected alias's block applies, and a
   missing block means no overlay.
3. environment: ``DJQ_MODE`` sets ``mode``.
4. command line: the ``overrides`` mapping, option -> value.

A top-level option set by a higher layer replaces the lower layer's value
wholesale: a YAML ``workers`` list replaces the settings' list rather than
merging entry by entry, and a YAML ``scheduler`` mapping replaces the whole
settings mapping (unset keys fall back to the defaults, not to settings).

The merged options are validated once. Each problem names the layer that set
the option and its exact path, e.g.
``/etc/djq.yml backends.default.workers[0].threads: expected a positive
integer, got 'lots'``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import yaml
from django.conf import settings
from django.core.signals import setting_changed

from djq.config import validation, yaml_file
from djq.config.schema import DJQ_BACKEND_PATH, BackendConfig
from djq.config.validation import Source
from djq.exceptions import ConfigurationError

__all__ = ["clear_cache", "djq_aliases", "get_config", "skip_recurring_from_env", "validate"]

logger = logging.getLogger("djq.config")

ENV_CONFIG = "DJQ_CONFIG"
ENV_MODE = "DJQ_MODE"
ENV_SKIP_RECURRING = "DJQ_SKIP_RECURRING"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

_cache: dict[tuple, BackendConfig] = {}
_cache_lock = threading.Lock()


def get_config(
    alias: str = "default",
    *,
    config_file: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> BackendConfig:
    """The validated configuration of ``alias``; raises ConfigurationError.

    The message is the first problem found; ``exc.problems`` lists them all.
    """
    environ = os.environ if environ is None else environ
    key = _cache_key(alias, config_file, overrides, environ)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    config, problems = _resolve(alias, config_file, overrides, environ, warn=True)
    if problems:
        message = problems[0]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more; run `djq check`)"
        error = ConfigurationError(message)
        error.problems = problems
        raise error
    with _cache_lock:
        _cache[key] = config
    return config


def validate(
    alias: str = "default",
    *,
    config_file: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Every problem with ``alias``'s configuration, one message each (for `djq check`)."""
    environ = os.environ if environ is None else environ
    return _resolve(alias, config_file, overrides, environ, warn=False)[1]


def djq_aliases() -> list[str]:
    """The ``TASKS`` aliases whose backend is djq's, in settings order."""
    tasks = _tasks_setting()
    if tasks is None:
        return ["default"]
    return [
        alias
        for alias, params in tasks.items()
        if isinstance(params, Mapping) and _is_djq_backend(params.get("BACKEND"))
    ]


def skip_recurring_from_env(environ: Mapping[str, str] | None = None) -> bool | None:
    """``DJQ_SKIP_RECURRING`` as a bool, or None when unset or empty."""
    environ = os.environ if environ is None else environ
    raw = environ.get(ENV_SKIP_RECURRING, "").strip()
    if not raw:
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigurationError(
        f"{ENV_SKIP_RECURRING}: expected one of 1/true/yes/on or 0/false/no/off, got {raw!r}"
    )


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("TASKS", "DATABASES"):
        clear_cache()


setting_changed.connect(_on_setting_changed, dispatch_uid="djq.config.clear_cache")


def _cache_key(alias, config_file, overrides, environ) -> tuple:
    path = _config_path(config_file, environ)
    try:
        stamp = os.stat(path).st_mtime_ns if path else None
    except OSError:
        stamp = None
    frozen = tuple(sorted((repr(k), repr(v)) for k, v in (overrides or {}).items()))
    return (alias, path, stamp, frozen, environ.get(ENV_MODE))


def _config_path(config_file, environ) -> str | None:
    if config_file is not None:
        return os.fspath(config_file)
    return environ.get(ENV_CONFIG) or None


def _resolve(alias, config_file, overrides, environ, *, warn: bool):
    """(config or None, problems): read every layer, merge, validate, build."""
    try:
        queues, settings_options, settings_source = _settings_layer(alias)
    except ConfigurationError as exc:
        return None, [str(exc)]
    problems: list[str] = []
    layers: list[tuple[Mapping, Source]] = [(settings_options, settings_source)]

    path = _config_path(config_file, environ)
    if path:
        try:
            layers.append(_yaml_layer(path, alias))
        except ConfigurationError as exc:
            problems.append(str(exc))

    mode = environ.get(ENV_MODE, "")
    if mode:
        layers.append(({"mode": mode}, Source("env", ENV_MODE, bare=True)))
    if overrides:
        layers.append((overrides, Source("cli", "command line")))

    merged: dict[Any, Any] = {}
    sources: dict[Any, Source] = {}
    for options, source in layers:
        for key, value in options.items():
            merged[key] = value
            sources[key] = source

    fields, found = validation.check_options(merged, sources, queues)
    problems.extend(found)
    if problems:
        return None, problems

    config = BackendConfig(
        alias=alias,
        queues=queues,
        sources=MappingProxyType(
            {key: sources[key].layer if key in fields else "default" for key in validation.OPTIONS}
        ),
        **fields,
    )
    return _normalise(config, warn=warn), []


def _normalise(config: BackendConfig, *, warn: bool) -> BackendConfig:
    if config.mode != "async" or all(w.processes == 1 for w in config.workers):
        return config
    workers = []
    for index, worker in enumerate(config.workers):
        if worker.processes != 1 and warn:
            logger.warning(
                "%s: workers[%d].processes=%d is ignored in async mode; using 1",
                config.alias,
                index,
                worker.processes,
            )
        workers.append(replace(worker, processes=1))
    return replace(config, workers=tuple(workers))


def _tasks_setting() -> Mapping | None:
    """``settings.TASKS`` if the project set a non-empty one, else None."""
    try:
        tasks = settings.TASKS
    except AttributeError:
        return None
    if not settings.is_overridden("TASKS") or not tasks:
        return None
    if not isinstance(tasks, Mapping):
        raise ConfigurationError(f"TASKS: expected a mapping of aliases, got {tasks!r}")
    return tasks


def _settings_layer(alias: str) -> tuple[tuple[str, ...], Mapping, Source]:
    label = f"TASKS[{alias!r}]"
    source = Source("settings", f"{label}['OPTIONS']")
    tasks = _tasks_setting()
    if tasks is None:
        if alias == "default":
            return (), {}, source
        tasks = {}
    params = tasks.get(alias)
    if params is None:
        hint = validation.hint(alias, djq_aliases())
        raise ConfigurationError(
            f"TASKS has no alias {alias!r}{hint}; djq aliases: {_listing(djq_aliases())}"
        )
    if not isinstance(params, Mapping):
        raise ConfigurationError(f"{label}: expected a mapping, got {params!r}")
    backend = params.get("BACKEND")
    if not _is_djq_backend(backend):
        raise ConfigurationError(
            f"{label} uses BACKEND {backend!r}, which is not djq's ({DJQ_BACKEND_PATH!r});"
            f" djq aliases: {_listing(djq_aliases())}"
        )
    queues = params.get("QUEUES", [])
    if (
        isinstance(queues, str)
        or not isinstance(queues, (list, tuple))
        or not all(isinstance(name, str) and name for name in queues)
    ):
        raise ConfigurationError(
            f"{label}['QUEUES']: expected a list of queue names, got {queues!r}"
        )
    options = params.get("OPTIONS", {})
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise ConfigurationError(f"{label}['OPTIONS']: expected a mapping, got {options!r}")
    return tuple(queues), options, source


def _kind(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), f"{type(value).__name__} {validation.show(value)}")


def _listing(aliases: list[str]) -> str:
    return ", ".join(repr(a) for a in aliases) if aliases else "none"


def _is_djq_backend(path: object) -> bool:
    if path == DJQ_BACKEND_PATH:
        return True
    if not isinstance(path, str):
        return False
    from django.utils.module_loading import import_string

    try:
        djq_backend = import_string(DJQ_BACKEND_PATH)
        backend = import_string(path)
    except ImportError:
        return False
    return isinstance(backend, type) and issubclass(backend, djq_backend)


def _yaml_layer(path: str, alias: str) -> tuple[Mapping, Source]:
    try:
        data = yaml_file.load(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path} line {mark.line + 1}" if mark is not None else path
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigurationError(f"{where}: invalid YAML ({reason})") from None

    flat = Source("yaml", path)
    if data is None:
        return {}, flat
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"{path}: expected a mapping of options at the top level, got {_kind(data)}"
        )
    if "backends" not in data:
        return data, flat

    others = [key for key in data if key != "backends"]
    if others:
        raise ConfigurationError(
            f"{path}: 'backends' must be the only top-level key, found also {others[0]!r}"
        )
    backends = data["backends"]
    if not isinstance(backends, Mapping):
        raise ConfigurationError(
            f"{path} backends: expected a mapping of backend aliases, got {_kind(backends)}"
        )
    known = djq_aliases()
    for name in backends:
        if name not in known:
            hint = validation.hint(name, known)
            raise ConfigurationError(f"{path} backends: unknown djq backend alias {name!r}{hint}")
    block = backends.get(alias)
    source = Source("yaml", path, prefix=("backends", alias))
    if block is None:
        return {}, source
    if not isinstance(block, Mapping):
        raise ConfigurationError(
            f"{source.where(())}: expected a mapping of options, got {_kind(block)}"
        )
    return block, source
