"""Every file in config_examples/ loads through the config loader."""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

from djq.config import djq_aliases, get_config
from tests.config.conftest import DJQ, extra_databases

EXAMPLES = Path(__file__).resolve().parents[2] / "config_examples"
YAML_FILES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yml", ".yaml"))
PYTHON_FILES = sorted(EXAMPLES.glob("*.py"))


def test_examples_exist():
    names = {p.name for p in YAML_FILES + PYTHON_FILES}
    assert {
        "flat.yml",
        "multi_backend.yml",
        "production_postgres.yml",
        "recurring.yml",
        "settings_example.py",
    } <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_yaml_example_loads(path):
    data = yaml.safe_load(path.read_text())
    blocks = data.get("backends", {"default": data})
    tasks = {alias: {"BACKEND": DJQ} for alias in ["default", *blocks]}
    databases = {block.get("database_alias", "default") for block in blocks.values()}
    with extra_databases(*databases), override_settings(TASKS=tasks):
        for alias, block in blocks.items():
            config = get_config(alias, config_file=str(path), environ={})
            assert {config.sources[key] for key in block} == {"yaml"}
            json.dumps(config.to_dict())


def _import(path):
    spec = importlib.util.spec_from_file_location(f"djq_example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.name)
def test_settings_example_loads(path):
    module = _import(path)
    with extra_databases(*module.DATABASES), override_settings(TASKS=module.TASKS):
        aliases = djq_aliases()
        assert aliases
        configs = {alias: get_config(alias, environ={}) for alias in aliases}
    for alias, config in configs.items():
        assert config.sources["workers"] == "settings"
        json.dumps(config.to_dict())
        assert set(config.to_options()) >= set(module.TASKS[alias].get("OPTIONS", {}))


def test_settings_example_details():
    module = _import(EXAMPLES / "settings_example.py")
    with extra_databases(*module.DATABASES), override_settings(TASKS=module.TASKS):
        assert djq_aliases() == ["default", "critical"]
        critical = get_config("critical", environ={})
    assert critical.database_alias == "queue"
    assert critical.queues == ("alerts", "critical-review")
    assert critical.mode == "async"
