"""Test-suite wiring: Django settings. Database fixtures live in tests/db.py."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()
