"""Chaos: real runtimes against a private database, random faults, then the invariants.

Bounded by default (``DJQ_CHAOS_SECONDS``, 20 s of faults per run); the long
form is the same test with a bigger number, for example
``DJQ_CHAOS_SECONDS=1200 .venv/bin/python -m pytest tests/chaos -k "postgresql and two"``.
``DJQ_CHAOS_REPORT=path`` appends each run's summary (one JSON line) to a file;
``DJQ_CHAOS_SEED`` replays a run's random choices (faults land at other moments).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.chaos.harness import ChaosRun
from tests.databases import vendors
from tests.servers import PrivateMariaDB, PrivatePostgres

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.timeout(0)]

SECONDS = float(os.environ.get("DJQ_CHAOS_SECONDS", "20"))
AVAILABLE = {"postgresql": PrivatePostgres.available(), "mysql": PrivateMariaDB.available()}


@pytest.mark.parametrize(("vendor", "supervisors"), [
    pytest.param("postgresql", 1, id="postgresql-one"),
    pytest.param("postgresql", 2, id="postgresql-two"),
    pytest.param("mysql", 2, id="mysql-two"),
])
def test_chaos(vendor, supervisors, tmp_path):
    if vendor not in vendors():
        pytest.skip(f"{vendor} is not in DJQ_TEST_VENDORS")
    if not AVAILABLE[vendor]:
        pytest.skip(f"no {vendor} server binaries to start a private server with")
    seed = int(os.environ["DJQ_CHAOS_SEED"]) if os.environ.get("DJQ_CHAOS_SEED") else None
    with ChaosRun(vendor, supervisors, SECONDS, tmp_path, seed=seed) as run:
        run.run()
        run.settle()
        violations = run.violations()
        summary = run.summary(violations)
    print(json.dumps(summary))
    if os.environ.get("DJQ_CHAOS_REPORT"):
        with open(os.environ["DJQ_CHAOS_REPORT"], "a") as fh:
            fh.write(json.dumps(summary) + "\n")
    assert summary["faults_total"] > 0 and summary["jobs"] > 0, summary
    assert not violations, "\n".join(violations[:50])
