"""The web tests' server: migrate the admin's tables, create the test users, serve on a free port.

Run as ``python -m tests.web.server`` with ``DJANGO_SETTINGS_MODULE=tests.web.settings``; prints
``listening on http://127.0.0.1:PORT`` once it accepts connections. ``DJQ_TEST_HIDE_PROMETHEUS=1``
makes ``prometheus_client`` unimportable (the "extra not installed" case);
``DJQ_TEST_SNAPSHOT_MAX_AGE`` sets how long snapshots are shared.
"""

from __future__ import annotations

import os
import sys

PASSWORD = "djq-pass-123"
#: username -> (superuser, permissions)
USERS = {
    "admin": (True, ()),
    "nobody": (False, ()),
    "viewer": (False, ("view_job",)),
    "operator": (False, ("view_job", "change_job")),
}


class _HidePrometheus:
    def find_spec(self, name, path=None, target=None):
        if name == "prometheus_client" or name.startswith("prometheus_client."):
            raise ImportError("prometheus_client is hidden for this test")
        return None


def main() -> None:
    if os.environ.get("DJQ_TEST_HIDE_PROMETHEUS") == "1":
        sys.meta_path.insert(0, _HidePrometheus())
    import django

    django.setup()
    from django.contrib.auth.models import Permission, User
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    if "DJQ_TEST_SNAPSHOT_MAX_AGE" in os.environ:  # the tests read what they just wrote
        from djq.ops import stats

        stats.SNAPSHOT_MAX_AGE = float(os.environ["DJQ_TEST_SNAPSHOT_MAX_AGE"])
    call_command("migrate", database="default", verbosity=0, interactive=False)
    for name, (superuser, perms) in USERS.items():
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True, "is_superuser": superuser})
        user.set_password(PASSWORD)
        user.save()
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="djq", codename__in=perms))

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
