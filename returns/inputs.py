"""What a return, an exchange and a receipt ask for once their input is checked: the one
shape the API, the console, the tracking page and the returns file turn their input into."""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.models import Location, Product
from orders.models import Order
from returns.models import Return


@dataclass(frozen=True)
class ReturnLineInput:
    product: Product
    quantity: int
    reason: str


@dataclass(frozen=True)
class ExchangeLineInput:
    product: Product
    quantity: int


@dataclass(frozen=True)
class ReturnInput:
    order: Order
    lines: list[ReturnLineInput]
    method: str = Return.Method.MAIL
    location: Location | None = None
    resolution: str = Return.Resolution.REFUND
    exchange_lines: list[ExchangeLineInput] = field(default_factory=list)


@dataclass(frozen=True)
class ReceiveLineInput:
    product: Product
    quantity: int
    disposition: str
