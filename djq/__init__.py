"""djq: a database-backed task queue for Django's Tasks framework."""

__version__ = "0.1.0"
