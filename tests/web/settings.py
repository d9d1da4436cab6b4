"""Settings for the web tests' server process: the suite's settings plus the admin and djq's URLs.

``DJQ_TEST_TOKEN`` sets ``DJQ_OBSERVABILITY_TOKEN`` (empty: none),
``DJQ_TEST_PUBLIC=1`` opens the endpoints without a token.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, LOGGING

INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", *INSTALLED_APPS,
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
ROOT_URLCONF = "tests.web.urls"
STATIC_URL = "/static/"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DEBUG = os.environ.get("DJQ_TEST_DEBUG") == "1"
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django.request": {"handlers": ["stderr"], "level": "ERROR"}}}
DJQ_OBSERVABILITY_TOKEN = os.environ.get("DJQ_TEST_TOKEN", "") or None
DJQ_OBSERVABILITY_PUBLIC = os.environ.get("DJQ_TEST_PUBLIC") == "1"
