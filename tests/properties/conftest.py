"""Hypothesis settings for the property tests (issue 10 item 14).

Bounded for CI: a fixed number of examples, derandomized (the same inputs on
every run, so a failure is never a fluke of the draw), no example database
written into the tree, and a deadline per example so a hang fails fast.
``DJQ_HYPOTHESIS_EXAMPLES=2000`` runs a longer, randomized search.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_examples = int(os.environ.get("DJQ_HYPOTHESIS_EXAMPLES", "0"))

settings.register_profile(
    "djq",
    max_examples=_examples or 40,
    derandomize=not _examples,
    database=None,
    deadline=5000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("djq")

from tests.cli.conftest import _build_the_tree_once  # noqa: E402, F401  (the CLI tests' one-time Typer tree)
