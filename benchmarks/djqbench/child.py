"""One measurement in a fresh process: write the project, set Django up, reset, measure, report.

The parent passes a JSON spec on the command line and reads back the last
line starting with ``RESULT `` from stdout.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .pg import Server
from .project import write_project
from .systems import SYSTEMS, worker_options


def _versions(system) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("django", system.dist, "psycopg", *(("uvloop",) if system.name == "pgqueuer" else ())):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def reset_tables(system) -> None:
    """Empty every table of the system, and start from a quiet WAL."""
    from django.db import connection

    tables = list(system.tables) or [
        t for t in connection.introspection.table_names() if t.startswith(system.table_prefix)]
    with connection.cursor() as cur:
        if tables:
            cur.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")
        cur.execute("CHECKPOINT")


def prepare(spec: dict, workdir: Path):
    """Project files, database, environment, django.setup(), migrations. Returns the scenario context."""
    from .scenarios import Ctx

    system = SYSTEMS[spec["system"]]
    server = Server.from_url(spec["db"])
    manage = write_project(system, workdir)
    server.ensure_database(system.name)
    options = worker_options(spec["processes"], spec["threads"], spec["polling_interval"], **spec.get("options", {}))
    if spec.get("prefetch") and system.name == "djq":
        options["workers"][0]["prefetch_multiplier"] = spec["prefetch"]
    stamps = workdir / "stamps.txt"
    settings_env = {
        "DJANGO_SETTINGS_MODULE": "benchproj.settings",
        "DJQBENCH_DATABASE": json.dumps(server.django_database(system.name, spec["conn_max_age"])),
        "DJQBENCH_OPTIONS": json.dumps(options),
        "DJQBENCH_STAMPS": str(stamps),
        "DJQBENCH_PG_DSN": server.dsn(system.name),
        "DJQBENCH_LOGGING": spec.get("djq_logging", "default") if system.name == "djq" else "quiet",
    }
    os.environ.update(settings_env)
    sys.path.insert(0, str(workdir))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(workdir), os.environ.get("PYTHONPATH", "")) if p),
        "PYTHONUNBUFFERED": "1",
    }
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    import subprocess

    for cmd in system.setup_commands(sys.executable, server.dsn(system.name)):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ})
    reset_tables(system)
    return Ctx(system=system, server=server, spec=spec, workdir=workdir, manage=manage, env=env, stamps=stamps)


def run(spec: dict) -> dict:
    from .claim import claim_backlog
    from .scenarios import SCENARIOS

    record: dict = {"scenario": spec["scenario"], "system": spec["system"], "rep": spec.get("rep", 0),
                    "topology": f"{spec['processes']}x{spec['threads']}", "n": spec.get("n"),
                    "label": spec.get("label", "")}
    workdir = Path(tempfile.mkdtemp(prefix=f"djqbench-{spec['system']}-"))
    load_before = os.getloadavg()[0]
    try:
        ctx = prepare(spec, workdir)
        func = claim_backlog if spec["scenario"] == "claim" else SCENARIOS[spec["scenario"]]
        load_before = os.getloadavg()[0]
        record.update(func(ctx))
        record["ok"] = True
        record["versions"] = _versions(ctx.system)
        if ctx.notes:
            record["notes"] = ctx.notes
    except BaseException as exc:
        record["ok"] = False
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()[-3000:]
    finally:
        record["loadavg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        record["ts"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        if spec.get("keep"):
            record["workdir"] = str(workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return record


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through `with Runtime`, which stops the runtime


def main(spec_json: str) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    record = run(json.loads(spec_json))
    print("RESULT " + json.dumps(record, default=str), flush=True)
    return 0 if record["ok"] else 1
