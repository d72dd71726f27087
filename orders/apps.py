from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from inventory.models import Location, LocationClosedDay
        from orders.delivery.config import delivery_config_clear
        from orders.models import CarrierService, DeliveryPrice, TransitBand

        # The delivery settings are kept in memory per process (orders.delivery.config): a
        # change saved here is seen at once; other processes reload on a timer.
        for model in (Location, LocationClosedDay, CarrierService, TransitBand, DeliveryPrice):
            for signal in (post_save, post_delete):
                signal.connect(
                    delivery_config_clear, sender=model, dispatch_uid=f"delivery-{model.__name__}"
                )
