from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Staff: which locations a person (or an integration's API user) works for, and roles."""

    name = "accounts"
    label = "accounts"
    verbose_name = "Staff and roles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.sync import sync_after_migrate

        # Sent once per app; only ours answers, after every app's tables exist.
        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="accounts-roles")
