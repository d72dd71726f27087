"""Take an order from any channel: record it, allocate it, in one transaction.

`channel` + `external_id` is unique in the database, so the same order sent
again — even by many clients at the same moment — yields the one order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from inventory.models import Location, Product
from oms.retry import retry_on_conflict
from orders.events import order_event_add
from orders.exceptions import OrderRejected
from orders.models import Channel, Order, OrderEvent, OrderLine
from orders.numbers import order_number_new
from orders.services.allocation import order_allocate
from orders.services.status import order_status_refresh


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_price: Decimal = Decimal("0")


@dataclass(frozen=True)
class OrderInput:
    channel: Channel
    lines: list[LineInput]
    external_id: str = ""
    email: str = ""
    name: str = ""
    phone: str = ""
    address: dict = field(default_factory=dict)
    delivery_method: str = Order.DeliveryMethod.STANDARD
    pickup_location: Location | None = None
    currency: str = "EUR"


def order_place(*, data: OrderInput, actor: AbstractBaseUser | None = None) -> tuple[Order, bool]:
    """Record and allocate an order; return it and whether it was created now.

    The same channel + external_id sent again answers the existing order.
    """
    if data.external_id:
        existing = _existing(data)
        if existing is not None:
            return existing, False
    try:
        return retry_on_conflict(lambda: _place(data, actor)), True
    except IntegrityError:
        # A concurrent request with the same external id committed first.
        if data.external_id:
            existing = _existing(data)
            if existing is not None:
                return existing, False
        raise


def _existing(data: OrderInput) -> Order | None:
    return Order.objects.filter(channel=data.channel, external_id=data.external_id).first()


@transaction.atomic(durable=True)
def _place(data: OrderInput, actor) -> Order:
    order = _create(data)
    result = order_allocate(order=order, actor=actor)
    order.sourcing_attempts = 1
    order.save(update_fields=["sourcing_attempts", "updated_at"])
    if data.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT:
        _ensure_pickup_covered(order, data, result.units)
    order_status_refresh(order=order, actor=actor)
    return order


def _create(data: OrderInput) -> Order:
    address = data.address or {}
    for _ in range(5):
        number = order_number_new()
        if not Order.objects.filter(number=number).exists():
            break
    order = Order.objects.create(
        number=number,
        channel=data.channel,
        external_id=data.external_id,
        customer_email=data.email.strip().lower(),
        customer_name=data.name,
        customer_phone=data.phone,
        customer_phone_digits=phone_digits(data.phone),
        ship_line1=address.get("line1", ""),
        ship_line2=address.get("line2", ""),
        ship_city=address.get("city", ""),
        ship_postcode=address.get("postcode", ""),
        ship_country=(address.get("country") or "").upper(),
        ship_lat=address.get("lat"),
        ship_lon=address.get("lon"),
        delivery_method=data.delivery_method,
        pickup_location=data.pickup_location,
        currency=data.currency.upper(),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_no=i,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for i, line in enumerate(data.lines, start=1)
    )
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.CREATED,
        message=f"Order received from {data.channel.name}.",
        data={"channel": data.channel.code, "external_id": data.external_id},
    )
    return order


def _ensure_pickup_covered(order: Order, data: OrderInput, units: int) -> None:
    """Click & collect is served by the pickup store alone: refuse what it cannot hold."""
    wanted = sum(line.quantity for line in data.lines)
    if units < wanted:
        store = data.pickup_location
        raise OrderRejected(
            f"{store.name} ({store.code}) does not have the whole basket for click & collect.",
            field="pickup_location",
        )


def phone_digits(phone: str) -> str:
    """Return the digits of a phone number, with an international 00 prefix folded into +."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[2:] if digits.startswith("00") else digits
