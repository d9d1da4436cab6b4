"""Project-level contracts: Django checks, migrations in step with models, lint, and djq's boundaries."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_django_system_checks_pass():
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "no issues" in out.getvalue()


def test_models_and_migrations_are_in_step():
    out = io.StringIO()
    call_command("makemigrations", "djq", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "djq", "djq_cli", "tests", "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "djq").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_the_cli(path):
    assert not any(name == "djq_cli" or name.startswith("djq_cli.") for name in _imports(path))
