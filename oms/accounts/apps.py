from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff: which locations a person (or an integration's API user) works for."""

    name = "oms.accounts"
    label = "accounts"
    verbose_name = "Staff and roles"
    default_auto_field = "django.db.models.BigAutoField"
