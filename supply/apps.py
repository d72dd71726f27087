from django.apps import AppConfig


class SupplyConfig(AppConfig):
    name = "supply"
    verbose_name = "Supply"

    def ready(self) -> None:
        from inventory.incoming import (
            incoming_free_register,
            incoming_projection_register,
            incoming_promised_total_register,
            incoming_promiser_register,
            incoming_release_register,
        )
        from inventory.selectors import incoming_reader_register
        from supply.counters import counters_register
        from supply.incoming import incoming_by_date, incoming_days
        from supply.promises import (
            incoming_units_free,
            incoming_units_promise,
            preorder_promised_total,
            promises_release,
        )

        # The stock counters transfers and purchase orders keep (allocated at the source,
        # in_transit, incoming) are checked by inventory's reconciliation, which imports
        # no app above it: supply hands it the rows behind them. Likewise the availability
        # endpoint lists incoming supply by date through supply's reader.
        counters_register()
        # Capture asks for transfers bringing a click & collect order's units to its store.
        from orders.pickup_transfers import pickup_transfers_register
        from supply.pickup import (
            pickup_sources_refused,
            pickup_transfers_cancel,
            pickup_transfers_request,
            pickup_units_awaiting,
        )

        pickup_transfers_register(
            request=pickup_transfers_request,
            awaiting=pickup_units_awaiting,
            cancel=pickup_transfers_cancel,
            refused=pickup_sources_refused,
        )
        incoming_reader_register(incoming_by_date)
        incoming_projection_register(incoming_days)
        # Order capture promises units the shelves lack against open purchase orders.
        incoming_promiser_register(incoming_units_promise)
        # Units of an order line cancelled give back what they were promised.
        incoming_release_register(promises_release)
        # A pre-order product's cap bounds what is promised of it; the stock page shows both.
        incoming_promised_total_register(preorder_promised_total)
        # Delivery options offer such lines with the later date, from the same free units.
        incoming_free_register(incoming_units_free)
