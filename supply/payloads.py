"""What supply's events and answers say of a transfer or a purchase order."""

from __future__ import annotations

from supply.models import PurchaseOrder, Transfer


def transfer_payload(transfer: Transfer) -> dict:
    """Return the transfer as the API shows it (docs/api.md "Transfers between locations")."""
    lines = [
        {"sku": line.product.sku, "quantity": line.quantity, "received": line.received}
        for line in transfer.lines.all()
    ]
    closed = transfer.status == Transfer.Status.RECEIVED
    return {
        "number": transfer.number,
        "from": transfer.source.code,
        "to": transfer.destination.code,
        "status": transfer.status,
        "reference": transfer.reference,
        "lines": lines,
        # Shipped and never received, once the transfer was received: its discrepancies.
        "discrepancies": [
            {"sku": line["sku"], "missing": line["quantity"] - line["received"]}
            for line in lines
            if closed and line["received"] < line["quantity"]
        ],
        "created_at": transfer.created_at,
        "shipped_at": transfer.shipped_at,
        "received_at": transfer.received_at,
    }


def purchase_order_payload(purchase_order: PurchaseOrder) -> dict:
    """Return the purchase order as the API shows it (docs/api.md "Inbound supply")."""
    return {
        "number": purchase_order.number,
        "supplier": purchase_order.supplier,
        "location": purchase_order.location.code,
        "expected_on": purchase_order.expected_on,
        "status": purchase_order.status,
        "lines": [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "received": line.received,
                "over_received": line.over_received,
            }
            for line in purchase_order.lines.all()
        ],
        "created_at": purchase_order.created_at,
    }
