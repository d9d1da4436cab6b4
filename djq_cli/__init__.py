"""djq_cli: the ``djq`` command line and the ``djq tui`` dashboard."""

from djq import __version__

__all__ = ["__version__"]
