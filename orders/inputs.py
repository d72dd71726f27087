"""What an order asks for once its input is checked: the one shape every channel's input
is turned into (the API's serializer, the console, the admin) before order capture."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from inventory.models import Location, Product
from orders.models import Channel, Order, Reservation


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
    # A basket reservation (orders.services.reservations) this order consumes.
    reservation: Reservation | None = None


def phone_digits(phone: str) -> str:
    """Return the digits of a phone number, with an international 00 prefix folded into +."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[2:] if digits.startswith("00") else digits
