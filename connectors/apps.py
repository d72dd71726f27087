from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Storefront connectors"

    def ready(self) -> None:
        # The storefronts' reader of the outbox runs in every relay run, after the ledger's
        # stock.changed producer (inventory registers first: it comes first in INSTALLED_APPS).
        from connectors.producer import connectors_events_read
        from inventory.moved import kick_register
        from outbox.emit import RELAY_KEY, RELAY_TASK
        from outbox.producers import producer_register

        producer_register("connectors", connectors_events_read)
        # A stock movement wakes the relay at once (not at its next sweep), so that a
        # storefront hears of it within seconds.
        kick_register(RELAY_TASK, key=RELAY_KEY)
