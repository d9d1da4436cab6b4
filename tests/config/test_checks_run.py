"""The documented checks run: `manage.py check` always runs djq's, and `djq check` imports recurring tasks.

Issue 9, items 4, 5 and 6. Each test writes a settings module into a temporary
directory and runs the real ``django-admin`` / ``djq`` programs against it.
"""

from __future__ import annotations

from django.core import checks
from django.tasks import task_backends
from django.test import override_settings

from tests.cli.conftest import DJANGO_ADMIN, ROOT, run_djq, subprocess_env

BAD = '''
from tests.settings import *  # noqa
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TASKS = {"default": {"BACKEND": "djq.backend.DjqBackend", "QUEUES": [], "OPTIONS": {
    "thread": 3,
    "recurring": {
        "typo": {"task_path": "tests.tasks.ad", "schedule": "* * * * *"},
        "gone": {"task_path": "nosuch.tasks.report", "schedule": "61 * * * *"},
    },
}}}
'''

NO_APP = '''
from tests.settings import *  # noqa
import django.tasks  # noqa: the application's tasks module would import it
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
INSTALLED_APPS = ["tests"]
TASKS = {"default": {"BACKEND": "djq.backend.DjqBackend", "QUEUES": [], "OPTIONS": {}}}
'''


def settings_env(tmp_path, text: str):
    (tmp_path / "checked_settings.py").write_text(text)
    return subprocess_env(DJANGO_SETTINGS_MODULE="checked_settings", PYTHONPATH=f"{tmp_path}:{ROOT}",
                          DJQ_TEST_DATABASES=None)


def test_item_5_manage_py_check_reports_djq_problems_without_django_tasks_imported_first(tmp_path):
    run = run_djq("check", env=settings_env(tmp_path, BAD), program=DJANGO_ADMIN)

    assert run.exit_code == 1
    assert "(djq.E001) TASKS['default']['OPTIONS']: unknown option 'thread'" in run.stderr
    assert "recurring.gone.schedule: invalid cron schedule '61 * * * *'" in run.stderr


def test_item_4_djq_check_reports_recurring_task_paths_that_do_not_import(tmp_path):
    run = run_djq("check", env=settings_env(tmp_path, BAD))

    assert run.exit_code == 1
    problems = run.stderr.splitlines()
    assert ("TASKS['default']['OPTIONS'] recurring.typo.task_path: no task 'ad' in module 'tests.tasks' "
            "(did you mean 'add'?)") in problems
    assert ("TASKS['default']['OPTIONS'] recurring.gone.task_path: cannot import task 'nosuch.tasks.report': "
            "no module named 'nosuch'") in problems
    assert any("recurring.gone.schedule: invalid cron schedule" in p for p in problems)
    assert problems[-1] == "djq check: 5 problems found"  # and the unmigrated in-memory database


def test_item_6_djq_not_in_installed_apps_is_a_system_check_error(tmp_path):
    run = run_djq("check", env=settings_env(tmp_path, NO_APP), program=DJANGO_ADMIN)

    assert run.exit_code == 1
    assert "(djq.E002) TASKS['default'] uses djq's backend but 'djq' is not in INSTALLED_APPS" in run.stderr
    assert 'HINT: add "djq" to INSTALLED_APPS' in run.stderr


def test_item_6_through_the_backend_check_api():
    with override_settings(INSTALLED_APPS=["tests"]):
        messages = task_backends["default"].check()
    assert [(type(m), m.id) for m in messages] == [(checks.Error, "djq.E002")]
    assert all(m.id != "djq.E002" for m in task_backends["default"].check())
