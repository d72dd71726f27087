from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        # The outbox relay writes stock.changed from the ledger in batches; the outbox
        # knows no domain, so inventory hands it the producer.
        from inventory.stock_changes import stock_changes_emit
        from outbox.producers import producer_register

        producer_register("stock.changed", stock_changes_emit)
