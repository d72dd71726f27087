from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from alerts.badge import badge_warm_at_login

        user_logged_in.connect(badge_warm_at_login, dispatch_uid="alerts-badge-warm")
