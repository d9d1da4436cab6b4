from django.apps import AppConfig


class DjqConfig(AppConfig):
    name = "djq"
    verbose_name = "djq task queue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django registers the task backends' system check when django.tasks
        # is first imported; a project that never imported it before
        # `manage.py check` would skip djq's checks. Importing it here
        # registers the check whatever the import order.
        import django.tasks  # noqa: F401
