"""Builders for return tests: a shipped order, and returns made through the service."""

from __future__ import annotations

from decimal import Decimal

from fulfilment.models import Fulfilment
from inventory.models import Location, Product
from orders.inputs import LineInput, OrderInput
from orders.models import Channel, Order
from orders.services.capture import order_place
from orders.services.fulfilments import fulfilment_ship
from returns.inputs import ReturnInput, ReturnLineInput
from returns.models import Return
from returns.services import return_create


def order_shipped(
    lines: list[tuple[Product, int, str]],
    *,
    channel: str = "web",
    shipping_price: str | None = "4.90",
) -> Order:
    """Place an order (lines of product, quantity, unit price) and ship all of it."""
    order, _ = order_place(
        data=OrderInput(
            channel=Channel.objects.get(code=channel),
            lines=[LineInput(product=p, quantity=q, unit_price=Decimal(u)) for p, q, u in lines],
            email="ada@example.com",
            name="Ada Lovelace",
            address={
                "line1": "1 rue de Rivoli",
                "city": "Paris",
                "postcode": "75001",
                "country": "FR",
                "lat": 48.8606,
                "lon": 2.3376,
            },
        )
    )
    if shipping_price is not None:
        Order.objects.filter(pk=order.pk).update(shipping_price=Decimal(shipping_price))
    for fulfilment in Fulfilment.objects.filter(order=order):
        fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="colissimo", tracking_number="T1")
    order.refresh_from_db()
    return order


def return_of(
    order: Order,
    lines: list[tuple[Product, int]],
    *,
    reason: str = "too_small",
    location: Location | None = None,
) -> Return:
    return return_create(
        data=ReturnInput(
            order=order,
            lines=[ReturnLineInput(product=p, quantity=q, reason=reason) for p, q in lines],
            method=Return.Method.MAIL,
            location=location,
        )
    )
