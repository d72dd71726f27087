from django.apps import AppConfig


class LabConfig(AppConfig):
    """The sourcing lab: a period of real orders replayed under another sourcing policy."""

    name = "lab"
    label = "lab"
    verbose_name = "Sourcing lab"
    default_auto_field = "django.db.models.BigAutoField"
