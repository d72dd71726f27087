from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console: dashboards, work queues and background jobs (/console/)."""

    name = "console"
    label = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"
