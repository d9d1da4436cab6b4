"""Setting Django up for the CLI: a project's settings, a bare database URL, or the embedded default.

- ``--settings`` (or ``DJANGO_SETTINGS_MODULE``): the application's own settings.
- ``--database-url`` (or ``DJQ_DATABASE_URL``) alone: *standalone* mode. djq
  operates an existing queue database without the application's code; jobs
  are handled by their stored task path.
- neither: the *embedded* default, a SQLite database in the data directory
  (``$DJQ_HOME``, else ``$XDG_DATA_HOME/djq``, else ``~/.local/share/djq``),
  migrated on first use, with a demo workload that enqueues a mix of jobs
  every few seconds.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

EMBEDDED = "embedded"
STANDALONE = "standalone"
PROJECT = "project"


def data_dir() -> Path:
    if os.environ.get("DJQ_HOME"):
        return Path(os.environ["DJQ_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "djq"


@dataclass
class Setup:
    mode: str
    description: str


def _sqlite_options() -> dict:
    # WAL lets readers (the CLI, the dashboard) work while workers write;
    # IMMEDIATE transactions take the write lock up front instead of failing
    # on upgrade; the timeout rides out short lock waits.
    return {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE", "timeout": 20}


def _logging(level: str = "WARNING") -> dict:
    return {"version": 1, "disable_existing_loggers": False, "loggers": {"djq": {"level": level}}}


def embedded_settings() -> dict:
    home = data_dir()
    home.mkdir(parents=True, exist_ok=True)
    return {
        "SECRET_KEY": "djq-embedded",
        "DJQ_CLI_MODE": EMBEDDED,
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "INSTALLED_APPS": ["djq"],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(home / "djq.sqlite3"),
                                  "OPTIONS": _sqlite_options()}},
        "TASKS": {
            "default": {
                "BACKEND": "djq.backend.DjqBackend",
                "QUEUES": [],
                "OPTIONS": {
                    "workers": [{"queues": ["default", "reports"], "threads": 3, "polling_interval": 0.2}],
                    "dispatchers": [{"polling_interval": 0.5}],
                    "scheduler": {"polling_interval": 1, "dynamic_tasks_enabled": True},
                    "process_heartbeat_interval": 10,
                    "process_alive_threshold": 60,
                    "recurring": {
                        "demo-feed": {
                            "task_path": "djq_cli.demo.feed",
                            "schedule": "* * * * * */4",
                            "description": "enqueue a mix of demo jobs every 4 seconds",
                        }
                    },
                },
            }
        },
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        # The demo shows each job start and finish (per-job lines are DEBUG on djq.job).
        "LOGGING": {"version": 1, "disable_existing_loggers": False, "loggers": {"djq.job": {"level": "DEBUG"}}},
    }


def standalone_settings(url: str) -> dict:
    import dj_database_url

    from djq.exceptions import ConfigurationError

    try:
        database = dj_database_url.parse(url)
    except Exception as exc:
        raise ConfigurationError(
            f"--database-url {_redact(url)!r} is not a database URL ({str(exc).split('.')[0]}); it looks like "
            "postgres://USER:PASSWORD@HOST:5432/NAME, mysql://USER@HOST:3306/NAME or sqlite:////absolute/path.db"
        ) from None
    if not database.get("ENGINE"):
        raise ConfigurationError(f"--database-url {_redact(url)!r} names no database engine; it looks like "
                                 "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:////absolute/path.db")
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("OPTIONS", {}).update(_sqlite_options())
    return {
        "SECRET_KEY": "djq-standalone",
        "DJQ_CLI_MODE": STANDALONE,
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "INSTALLED_APPS": ["djq"],
        "DATABASES": {"default": database},
        "TASKS": {"default": {"BACKEND": "djq.backend.DjqBackend", "QUEUES": [], "OPTIONS": {}}},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
    }


def setup_django(*, settings: str | None, pythonpath: str | None, database_url: str | None) -> Setup:
    """Configure and set up Django once, in the mode the options ask for."""
    from django.conf import settings as django_settings

    if pythonpath:
        sys.path.insert(0, pythonpath)
    elif os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like manage.py: the project is importable from where you are
    if settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings
    module = os.environ.get("DJANGO_SETTINGS_MODULE")
    if database_url and not settings:
        django_settings.configure(**standalone_settings(database_url))
        setup = Setup(STANDALONE, "standalone: " + _redact(database_url))
    elif module:
        setup = Setup(PROJECT, f"settings {module}")
        _importable_settings(module, pythonpath)
    else:
        django_settings.configure(**embedded_settings())
        setup = Setup(EMBEDDED, f"embedded SQLite in {data_dir()}")
    _setup()
    if setup.mode == EMBEDDED:
        migrate_quietly()
    return setup


def _setup() -> None:
    """``django.setup()`` for a command line: the same, minus two imports a command never uses.

    ``django.setup`` imports ``django.urls`` for the script prefix, and
    Django's default logging builds the "mail admins" handler, which imports
    the debug views (and with them ``django.http``, ``django.urls`` and the
    templates) for error reports of web requests. Together that is a fifth
    of an inspecting command's start-up; a command builds no URLs and
    serves no requests. The project's own ``LOGGING`` applies as usual.
    """
    import logging.config

    from django.apps import apps
    from django.conf import settings
    from django.utils.log import DEFAULT_LOGGING
    from django.utils.module_loading import import_string

    if settings.LOGGING_CONFIG:
        handlers = {k: v for k, v in DEFAULT_LOGGING["handlers"].items() if k != "mail_admins"}
        loggers = {name: {**cfg, "handlers": [h for h in cfg["handlers"] if h in handlers]}
                   for name, cfg in DEFAULT_LOGGING["loggers"].items()}
        logging.config.dictConfig({**DEFAULT_LOGGING, "handlers": handlers, "loggers": loggers})
        if settings.LOGGING:
            import_string(settings.LOGGING_CONFIG)(settings.LOGGING)
    apps.populate(settings.INSTALLED_APPS)


def _importable_settings(module: str, pythonpath: str | None) -> None:
    """A settings module that does not import is an error that says where Python looked."""
    import importlib

    from djq.exceptions import ConfigurationError

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            where = f"--pythonpath {pythonpath}" if pythonpath else f"the current directory ({os.getcwd()})"
            raise ConfigurationError(
                f"settings module {module!r} does not import (no module named {exc.name!r}) from {where}; "
                "give the directory that holds the project with --pythonpath"
            ) from None
        raise


def migrate_quietly() -> None:
    from django.core.management import call_command

    from djq.ops.schema import pending_migrations

    if pending_migrations("default"):
        call_command("migrate", "djq", database="default", verbosity=0, interactive=False)


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
