from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class AccountsConfig(AppConfig):
    """Staff: which locations (and, for API users, channels) a person or token works for, and
    roles."""

    name = "accounts"
    label = "accounts"
    verbose_name = "Staff and roles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.models import Permission

        from accounts.access import forget_permission_names
        from accounts.scoping import scope_for
        from accounts.sync import sync_after_migrate
        from core.api.idempotency import caller_scope_register

        # A replayed answer is for the scope that asked: core reads it through this.
        caller_scope_register(lambda user: scope_for(user).fingerprint())

        # Sent once per app; only ours answers, after every app's tables exist.
        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="accounts-roles")

        # The token query's names of permission ids (accounts.access) follow the rows.
        post_migrate.connect(forget_permission_names, dispatch_uid="accounts-permission-names")
        for signal in (post_save, post_delete):
            signal.connect(
                forget_permission_names, sender=Permission, dispatch_uid="accounts-permission-names"
            )
