from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console: dashboards, work queues and background jobs (/console/)."""

    name = "console"
    label = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from console.admin_exports import admin_export_run_later
        from core.admin_exports import background_export_register

        # Every app's admin exports big lists through the console's background jobs.
        background_export_register(admin_export_run_later)
