from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console: dashboards, work queues and background jobs (/console/)."""

    name = "console"
    label = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from console.admin_exports import admin_export_run_later
        from console.navigation import PRODUCT_NAME
        from core.admin_exports import background_export_register

        # Every app's admin exports big lists through the console's background jobs.
        background_export_register(admin_export_run_later)
        # The product's own name wherever the admin says its site's (login, logout pages).
        admin.site.site_header = PRODUCT_NAME
        admin.site.site_title = PRODUCT_NAME
        admin.site.index_title = "Administration"
