"""The WSGI application for the gunicorn test (its config is ``tests/web/gunicorn_conf.py``)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
