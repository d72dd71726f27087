from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from alerts.badge import badge_warm_at_login
        from alerts.tasks import STOCK_TASK
        from inventory.moved import reader_register

        user_logged_in.connect(badge_warm_at_login, dispatch_uid="alerts-badge-warm")
        # Stock that moves is evaluated after its commit by this task.
        reader_register(STOCK_TASK)
