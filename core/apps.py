from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Plumbing every app stands on: SQL helpers, retries, API errors and idempotency keys."""

    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"
