"""Builders for alert tests: stock at a place, shipments in the ledger at a chosen time."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from inventory.locks import lock_stock
from inventory.models import Location, Product, StockLevel, StockMovement
from inventory.services import stock_adjust
from inventory.services.ledger import movement_apply


def set_available(product: Product, location: Location, units: int) -> StockLevel:
    """Bring on hand to `units` (nothing allocated in these tests) through the ledger."""
    stock = StockLevel.objects.filter(product=product, location=location).first()
    current = stock.on_hand if stock else 0
    if units != current:
        stock_adjust(product=product, location=location, quantity=units - current, reason="test")
    return StockLevel.objects.get_or_create(product=product, location=location)[0]


def ship(product: Product, location: Location, units: int, *, at: datetime) -> None:
    """Record units leaving as a shipment at `at`, as fulfilment does."""
    with transaction.atomic():
        place = (product.pk, location.pk)
        stock = lock_stock([place])[place]
        movement_apply(
            stock=stock, kind=StockMovement.Kind.SHIPMENT, quantity=-units, reference="t", at=at
        )
