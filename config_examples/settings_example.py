"""A sample Django settings module for a project using djq.

Two djq backend aliases share the project with one of Django's own backends:
djq manages only the aliases whose BACKEND is ``djq.backend.DjqBackend``.
The ``critical`` alias keeps its queue tables on a separate database.
Every option not given here keeps its default (see ``djq.config.schema``).
"""

import os

import dj_database_url

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "change-me")
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "djq",
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://app@localhost:5432/app")
    ),
    "queue": dj_database_url.parse(
        os.environ.get("QUEUE_DATABASE_URL", "postgres://app@localhost:5432/app_queue")
    ),
}
DATABASE_ROUTERS = ["djq.routers.DjqRouter"]

TASKS = {
    "default": {
        "BACKEND": "djq.backend.DjqBackend",
        "QUEUES": [],  # empty: any queue name is allowed
        "OPTIONS": {
            "workers": [
                {"queues": ["default", "email*"], "threads": 5, "processes": 2},
                {"queues": "*", "threads": 2, "polling_interval": 1},
            ],
            "dispatchers": [{"batch_size": 500}],
            "recurring": {
                "nightly_cleanup": {
                    "task_path": "myapp.tasks.cleanup",
                    "schedule": "0 3 * * *",
                    "description": "nightly cleanup",
                },
            },
            "clear_finished_jobs_after": 3 * 86400,
            "supervisor_pidfile": "/run/djq/default.pid",
            "retry": {"max_attempts": 3, "retry_on": ["builtins.ConnectionError"]},
        },
    },
    "critical": {
        "BACKEND": "djq.backend.DjqBackend",
        "QUEUES": ["alerts", "critical-review"],  # an allow-list
        "OPTIONS": {
            "database_alias": "queue",
            "mode": "async",
            "workers": [{"queues": ["alerts", "critical-review"], "threads": 2}],
            "process_heartbeat_interval": 15,
            "process_alive_threshold": 60,
        },
    },
    # Not djq's: djq leaves this alias alone.
    "inline": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
}
