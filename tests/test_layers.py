"""The architecture as a test: who may import whom, and no import circles in ``djq``.

    front ends (djq_cli, djq.web, djq.urls)  ->  djq.ops, djq.config, djq.exceptions, djq.states
    djq.ops                                  ->  djq.engine, djq.models, djq.db ... never djq.runtime
    djq.engine                               ->  never djq.ops (nor djq.runtime)
    djq                                      ->  never djq_cli

Every import counts, including those inside functions: a lazy import is
still a dependency, and a circle through one is still a circle.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FRONT_END_ALLOWED = ("djq.ops", "djq.config", "djq.exceptions", "djq.states")
#: ``djq start`` runs the runtime; nothing else in the CLI may.
RUNTIME_USERS = {"djq_cli.commands.start"}
#: Packages inside djq that are front ends too (when they exist).
DJQ_FRONT_ENDS = ("djq.web", "djq.urls", "djq.admin")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts}


ALL = {**modules("djq"), **modules("djq_cli")}


@cache
def imports(name: str) -> frozenset[str]:
    """The project modules ``name`` imports (absolute and relative, at any depth of the file)."""
    path = ALL[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            # ``from pkg import sub`` names a submodule when one exists.
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in ALL else stem for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in ALL}
    found.discard(name)
    return frozenset(found)


def within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def is_front_end(name: str) -> bool:
    return within(name, "djq_cli") or within(name, DJQ_FRONT_ENDS)


@pytest.mark.parametrize("name", sorted(n for n in ALL if is_front_end(n)))
def test_front_ends_use_only_the_operations_layer(name):
    allowed = FRONT_END_ALLOWED + (("djq.runtime",) if name in RUNTIME_USERS else ())
    wrong = sorted(t for t in imports(name)
                   if within(t, "djq") and t != "djq" and not is_front_end(t) and not within(t, allowed))
    assert not wrong, f"{name} imports {wrong}; front ends go through {', '.join(FRONT_END_ALLOWED)}"


@pytest.mark.parametrize("name", sorted(n for n in ALL if within(n, "djq.ops")))
def test_operations_never_import_the_runtime(name):
    assert not [t for t in imports(name) if within(t, ("djq.runtime", "djq_cli"))]


@pytest.mark.parametrize("name", sorted(n for n in ALL if within(n, "djq.engine")))
def test_engine_never_imports_operations_or_runtime(name):
    assert not [t for t in imports(name) if within(t, ("djq.ops", "djq.runtime", "djq_cli"))]


def test_states_need_no_django():
    tree = ast.parse(ALL["djq.states"].read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not [n for n in names if n.startswith(("django", "djq"))]


def _cycle() -> list[str] | None:
    """One import circle among djq's modules, or None (depth-first search with colours)."""
    graph = {n: sorted(t for t in imports(n) if within(t, "djq")) for n in ALL if within(n, "djq")}
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in colour and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return None

    for start in sorted(graph):
        if start not in colour and (found := visit(start)):
            return found
    return None


def test_no_import_circles_in_djq():
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_the_checker_sees_a_circle():
    """The circle check can fail: a module that imports itself through another is found."""
    imports.cache_clear()
    ALL["djq.states"], saved = ALL["djq.backend"], ALL["djq.states"]
    try:
        assert _cycle() is not None  # djq.backend imports djq.states, which now "is" djq.backend
    finally:
        ALL["djq.states"] = saved
        imports.cache_clear()


def test_the_layers_show_in_the_tree():
    packages = {p.name for p in (ROOT / "djq").iterdir() if (p / "__init__.py").exists()}
    assert {"engine", "ops", "runtime", "db", "models", "config"} <= packages
