"""The web endpoints at a million jobs: ``metrics``, ``stats.json`` and the admin overview over real HTTP.

Creates its own PostgreSQL database (dropped at the end unless ``--keep``),
fills it with ``benchmarks/readpaths.py``'s data (1,000,000 finished,
100,000 failed, 50,000 ready and 10,000 scheduled jobs over 20 queues and
200 task paths, 24 hours of the throughput rollup), serves the project with
Django's threaded WSGI server on 127.0.0.1 and times each request with the
snapshot cache off (every request builds its snapshot: the worst case),
median of 7 after one warm-up. Target: each under 300 ms.

    .venv/bin/python benchmarks/web_endpoints.py [--db postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import readpaths  # noqa: E402

RUNS = 7
TARGET_MS = 300.0
TOKEN = "bench-token"


def configure(url: str) -> None:
    import django
    from django.conf import settings

    from djq_cli.bootstrap import standalone_settings

    base = standalone_settings(url)
    settings.configure(**{
        **base,
        "INSTALLED_APPS": ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                           "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles", "djq"],
        "MIDDLEWARE": ["django.contrib.sessions.middleware.SessionMiddleware",
                       "django.middleware.csrf.CsrfViewMiddleware",
                       "django.contrib.auth.middleware.AuthenticationMiddleware",
                       "django.contrib.messages.middleware.MessageMiddleware"],
        "TEMPLATES": [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                       "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                          "django.contrib.auth.context_processors.auth",
                                                          "django.contrib.messages.context_processors.messages"]}}],
        "ROOT_URLCONF": "web_endpoints_urls", "ALLOWED_HOSTS": ["127.0.0.1"], "STATIC_URL": "/static/",
        "DJQ_OBSERVABILITY_TOKEN": TOKEN,
    })
    django.setup()


def serve():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))  # the admin's CSS, for a person looking
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def logged_in_opener(base: str):
    from django.contrib.auth.models import User

    User.objects.filter(username="bench").delete()
    User.objects.create_superuser("bench", "bench@example.com", "bench-pass")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/admin/login/").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode({"username": "bench", "password": "bench-pass", "csrfmiddlewaretoken": csrf,
                                   "next": "/admin/"}).encode()
    opener.open(urllib.request.Request(base + "/admin/login/", data=data, headers={"Referer": base})).read()
    return opener


def timed(opener, url: str, headers: dict | None = None) -> tuple[float, int, int]:
    samples, size, status = [], 0, 0
    for i in range(RUNS + 1):
        started = time.perf_counter()
        with opener.open(urllib.request.Request(url, headers=headers or {})) as response:
            body = response.read()
            status = response.status
        if i:  # the first one warms connections and templates
            samples.append((time.perf_counter() - started) * 1000)
        size = len(body)
    return statistics.median(samples), status, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_ADMIN_DB", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="NAME", help="a database kept by an earlier --keep (of either benchmark)")
    options = parser.parse_args()
    name = options.reuse or f"djq_web_{os.getpid()}"
    url = readpaths.with_db(options.db, name)
    if not options.reuse:
        readpaths.admin(options.db, f"CREATE DATABASE {name}")
    try:
        configure(url)
        from django.core.management import call_command

        if options.reuse:
            call_command("migrate", verbosity=0, interactive=False)
        else:
            print(f"filled {name} in {readpaths.fill(url):.0f} s", flush=True)
            call_command("migrate", verbosity=0, interactive=False)
        from djq.ops import stats

        stats.SNAPSHOT_MAX_AGE = 0.0  # every request pays for its own snapshot
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM djq_job")
            jobs = cursor.fetchone()[0]
        server, base = serve()
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        plain = urllib.request.build_opener()
        results = {
            "metrics": timed(plain, base + "/djq/metrics", bearer),
            "stats.json": timed(plain, base + "/djq/stats.json", bearer),
            "admin overview": timed(logged_in_opener(base), base + "/admin/djq/job/default/"),
        }
        server.shutdown()
        print(f"{jobs:,} jobs in djq_job; median of {RUNS} requests each, snapshot cache off")
        failures = []
        for what, (ms, status, size) in results.items():
            verdict = "ok" if status == 200 and ms < TARGET_MS else "SLOW"
            if verdict != "ok":
                failures.append(what)
            print(f"  {what:<16} {ms:7.1f} ms  (HTTP {status}, {size:,} bytes)  target < {TARGET_MS:.0f} ms: {verdict}")
        out = readpaths.RESULTS / f"web-endpoints-{time.strftime('%Y%m%dT%H%M%S')}.json"
        readpaths.RESULTS.mkdir(exist_ok=True)
        out.write_text(json.dumps({"jobs": jobs, "runs": RUNS, "results": {k: v[0] for k, v in results.items()}},
                                  indent=2) + "\n")
        return 1 if failures else 0
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep and not options.reuse:
            readpaths.admin(options.db, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        elif options.keep:
            print(f"kept database {name}")


if __name__ == "__main__":
    sys.exit(main())
