from inventory.partner_file_command import PartnerFileCommand
from orders.exchange import ShipmentsRejected, shipments_import


class Command(PartnerFileCommand):
    help = (
        "Ship the fulfilments of a 3PL's file (CSV: fulfilment,carrier,tracking_number) in "
        "one transaction. Any bad row rejects the whole file; every bad row is printed. A "
        "row already shipped with the same carrier and tracking number changes nothing."
    )
    what = "shipment file"
    location_help = "Only accept this location's fulfilments."
    rejected = ShipmentsRejected

    def apply(self, *, data, location, actor) -> str:
        shipped = shipments_import(data=data, location=location, actor=actor)
        return f"Shipped {len(shipped)} fulfilment(s)."
