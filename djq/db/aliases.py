"""Which databases hold djq's tables."""

from django.conf import settings


def _backend_aliases() -> list[str]:
    from ..config import djq_aliases

    return djq_aliases()


def database_for(backend_alias: str) -> str:
    """The database alias holding the queue tables of ``backend_alias``."""
    from ..config import get_config

    return get_config(backend_alias).database_alias


def queue_databases() -> set[str]:
    """Every database that a djq backend alias uses, for ``allow_migrate``."""
    found = set()
    for alias in _backend_aliases():
        try:
            found.add(database_for(alias))
        except Exception:
            # An invalid config must not hide the tables from migrate: fall
            # back to what the settings say.
            options = getattr(settings, "TASKS", {}).get(alias, {}).get("OPTIONS", {})
            found.add(options.get("database_alias", "default"))
    return found


def default_queue_database() -> str | None:
    aliases = _backend_aliases()
    if not aliases:
        return None
    alias = "default" if "default" in aliases else aliases[0]
    try:
        return database_for(alias)
    except Exception:
        return None
