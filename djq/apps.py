from django.apps import AppConfig


class DjqConfig(AppConfig):
    name = "djq"
    verbose_name = "djq task queue"
    default_auto_field = "django.db.models.BigAutoField"
