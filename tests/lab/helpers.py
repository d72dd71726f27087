"""A seeded history for the sourcing lab: a network, stock, and orders placed through capture,
with receipts, a count, a shipment and a cancellation between them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.models import Location, Product
from inventory.services import stock_receive
from orders.models import Order
from orders.services.fulfilments import fulfilment_accept, fulfilment_ship
from orders.services.lifecycle import order_cancel
from tests.orders.helpers import place, product, stocked, warehouse

SITES = [
    # code, lat, lon, shipment cost, unit cost
    ("DC-PARIS", 48.90, 2.40, "5.00", "0.30"),
    ("DC-LYON", 45.76, 4.84, "4.50", "0.25"),
    ("DC-MARSEILLE", 43.30, 5.37, "4.00", "0.20"),
    ("DC-LILLE", 50.63, 3.06, "6.00", "0.40"),
]
CITIES = [(48.85, 2.35), (45.75, 4.85), (43.30, 5.40), (50.60, 3.10), (47.2, -1.55), (44.8, -0.6)]


@dataclass
class Seeded:
    products: list[Product]
    locations: dict[str, Location]
    start: datetime
    end: datetime
    before: list[Order]
    orders: list[Order]


def seeded_history(*, seed: int = 20261203, orders: int = 40) -> Seeded:
    """Stock the network, place a few orders before the period, then the period's orders with
    stock movements between them. Short stock makes splits and backorders happen."""
    rng = random.Random(seed)
    products = [product(f"LAB-{i}") for i in range(6)]
    locations = {
        code: warehouse(code, lat=lat, lon=lon, shipment_cost=ship, unit_cost=unit)
        for code, lat, lon, ship, unit in SITES
    }
    for item in products:
        for location in locations.values():
            if units := rng.randint(0, 6):
                stocked(item, location, units)
    before = [_order(rng, products) for _ in range(5)]
    start = timezone.now()
    placed = []
    for i in range(orders):
        placed.append(_order(rng, products))
        if i % 7 == 3:
            stock_receive(
                product=rng.choice(products),
                location=rng.choice(list(locations.values())),
                quantity=rng.randint(1, 5),
                reference=f"receipt-{i}",
            )
        if i == 10:
            _ship(placed[2])
            _ship(before[0])
        if i == 15:
            order_cancel(order=placed[5], reason="customer asked")
    end = timezone.now()
    return Seeded(products, locations, start, end, before, placed)


def _order(rng: random.Random, products: list[Product]) -> Order:
    lines = [(item, rng.randint(1, 3)) for item in rng.sample(products, rng.randint(1, 3))]
    lat, lon = rng.choice(CITIES)
    return place(lines, at=(lat + rng.uniform(-0.3, 0.3), lon + rng.uniform(-0.3, 0.3)))


def _ship(order: Order) -> None:
    for fulfilment in Fulfilment.objects.filter(order=order):
        fulfilment_accept(fulfilment_id=fulfilment.pk)
        fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="UPS", tracking_number=f"1Z{order.pk}")


__all__ = ["Seeded", "seeded_history", "stocked"]
