from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Events out: the transactional outbox, webhook subscriptions and their deliveries.

    Domain apps write events here in their own transactions; nothing here imports them.
    """

    name = "outbox"
    verbose_name = "Outbound events"
    default_auto_field = "django.db.models.BigAutoField"
