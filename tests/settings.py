"""Settings for the test suite.

The queue databases are created per test run by ``tests/conftest.py``; their
names arrive through ``DJQ_TEST_DATABASES`` (a JSON object alias -> settings)
so that runtime subprocesses started by the tests use the same databases.
"""

import json
import os

SECRET_KEY = "djq-tests"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["djq", "djq_cli", "tests"]
DATABASE_ROUTERS = ["djq.routers.DjqRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = json.loads(os.environ.get("DJQ_TEST_DATABASES", "{}")) or {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
}

_fast = {"polling_interval": 0.05}
TASKS = {
    alias: {
        "BACKEND": "djq.backend.DjqBackend",
        "QUEUES": [],
        "OPTIONS": {
            "database_alias": alias,
            "workers": [{"queues": "*", "threads": 4, **_fast}],
            "dispatchers": [{"polling_interval": 0.1}],
            "process_heartbeat_interval": 1,
            "shutdown_timeout": 5,
            **json.loads(os.environ.get("DJQ_TEST_OPTIONS", "{}")),
        },
    }
    for alias in DATABASES
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"djq": {"handlers": ["stderr"], "level": os.environ.get("DJQ_TEST_LOG", "INFO")}},
}
