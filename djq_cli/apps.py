from django.apps import AppConfig


class DjqCliConfig(AppConfig):
    """Installing ``djq_cli`` adds ``python manage.py djq ...``, the same tree as the ``djq`` command."""

    name = "djq_cli"
    verbose_name = "djq command line"
