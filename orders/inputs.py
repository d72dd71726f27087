"""What an order asks for, defined once.

`OrderBody` (with `CustomerBody`, `AddressBody`, `LineBody`) is the order as a channel
sends it to `POST /api/v1/orders/`: every field, its type, length, bounds and default,
and the rules a type cannot say, in `__post_init__`. The API reads a body into it
(core.structs, validation in C), the OpenAPI document shows its JSON schema, and nothing
else restates it.

`OrderInput` is the same order once its codes are looked up (channel, products, pickup
store, reservation): the one shape every way in (the API, the console, the admin) hands to
order capture, which checks what needs the database (orders.services.capture).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import models
from msgspec import Meta, Struct

from core.currencies import currency_problem
from core.structs import FieldRefused
from core.text import TextRefused, code_normalise
from inventory.models import (
    LATITUDE_LIMIT,
    LOCATION_CODE_MAX_LENGTH,
    LONGITUDE_LIMIT,
    SKU_MAX_LENGTH,
    Location,
    Product,
)
from orders.models import CHANNEL_CODE_MAX_LENGTH, MAX_LINE_QUANTITY, Channel, Order, Reservation

MAX_LINES = 500
# What an order line's price column holds: 12 digits, 2 of them decimals.
PRICE_DIGITS, PRICE_PLACES = 12, 2
PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 4, 20
DM = Order.DeliveryMethod


def _length(model: type[models.Model], name: str) -> int:
    """The column's length: an input never takes more than the database stores."""
    column = model._meta.get_field(name)
    assert isinstance(column, models.CharField) and column.max_length is not None
    return column.max_length


def Text(max_length: int, description: str | None = None) -> Meta:
    """A text field's limit (and what it holds, for the schema)."""
    return Meta(max_length=max_length, description=description)


class CustomerBody(Struct, kw_only=True):
    email: Annotated[str, Text(_length(Order, "customer_email"))]
    name: Annotated[str, Text(_length(Order, "customer_name"))] = ""
    phone: Annotated[
        str,
        Text(
            _length(Order, "customer_phone"),
            "Digits, spaces and + ( ) . - / only; 4 to 20 digits.",
        ),
    ] = ""

    def __post_init__(self) -> None:
        self.email = _required("email", self.email)
        try:
            validate_email(self.email)
        except DjangoValidationError:
            raise FieldRefused("email", "Enter a valid email address.") from None
        self.name = self.name.strip()
        self.phone = self.phone.strip()
        if self.phone and not _PHONE.fullmatch(self.phone):
            raise FieldRefused("phone", "A phone number: digits, spaces, + ( ) . - / only.")
        if self.phone and not PHONE_DIGITS_MIN <= len(phone_digits(self.phone)) <= PHONE_DIGITS_MAX:
            raise FieldRefused("phone", "A phone number has 4 to 20 digits.")


class AddressBody(Struct, kw_only=True):
    line1: Annotated[str, Text(_length(Order, "ship_line1"))]
    line2: Annotated[str, Text(_length(Order, "ship_line2"))] | None = ""
    city: Annotated[str, Text(_length(Order, "ship_city"))]
    postcode: Annotated[str, Text(_length(Order, "ship_postcode"))] = ""
    country: Annotated[
        str, Meta(max_length=2, description="ISO 3166 country code: two letters (e.g. FR).")
    ]
    lat: Annotated[float, Meta(ge=-LATITUDE_LIMIT, le=LATITUDE_LIMIT)] | None = None
    lon: Annotated[float, Meta(ge=-LONGITUDE_LIMIT, le=LONGITUDE_LIMIT)] | None = None

    def __post_init__(self) -> None:
        self.line1 = _required("line1", self.line1)
        self.line2 = (self.line2 or "").strip()
        self.city = _required("city", self.city)
        self.postcode = self.postcode.strip()
        country = self.country.strip()
        if not _COUNTRY.fullmatch(country):
            raise FieldRefused("country", "An ISO 3166 country code: two letters (e.g. FR).")
        self.country = country.upper()
        if (self.lat is None) != (self.lon is None):
            missing = "lat" if self.lat is None else "lon"
            raise FieldRefused(missing, "Give lat and lon together, or neither.")

    def as_dict(self) -> dict:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postcode": self.postcode,
            "country": self.country,
            "lat": self.lat,
            "lon": self.lon,
        }


class LineBody(Struct, kw_only=True):
    sku: Annotated[str, Meta(max_length=SKU_MAX_LENGTH)]
    quantity: Annotated[int, Meta(ge=1, le=MAX_LINE_QUANTITY)]
    unit_price: Annotated[
        Decimal,
        Meta(
            description='Decimal string ("19.90") or number, at least 0, two decimals at '
            "most; 0 when left out."
        ),
    ] = Decimal("0")

    def __post_init__(self) -> None:
        self.sku = _key("sku", self.sku, "A SKU")
        self.unit_price = _price(self.unit_price)


class OrderBody(Struct, kw_only=True):
    channel: Annotated[
        str, Meta(max_length=CHANNEL_CODE_MAX_LENGTH, description="A channel code, e.g. `web`.")
    ]
    external_id: Annotated[
        str,
        Text(
            _length(Order, "external_id"),
            "The order's id in the channel. The same channel + external_id sent again "
            "answers 200 with the existing order.",
        ),
    ] = ""
    customer: CustomerBody
    shipping_address: (
        Annotated[AddressBody, Meta(description="Required unless click_and_collect.")] | None
    ) = None
    delivery_method: DM = DM.STANDARD
    pickup_location: (
        Annotated[
            str,
            Meta(
                max_length=LOCATION_CODE_MAX_LENGTH,
                description="Code of the pickup store: for click_and_collect only.",
            ),
        ]
        | None
    ) = None
    currency: Annotated[str, Meta(max_length=3, description="ISO 4217, e.g. EUR.")]
    lines: Annotated[list[LineBody], Meta(min_length=1, max_length=MAX_LINES)]
    reservation: (
        Annotated[
            uuid.UUID,
            Meta(
                description="The `id` of a basket reservation (POST /api/v1/reservations/) "
                "of this channel: the order consumes it. An expired one is let go and the "
                "order is allocated as any other; a consumed or released one is a 400."
            ),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        self.channel = _key("channel", self.channel, "A code")
        self.external_id = self.external_id.strip()
        if self.pickup_location is not None:
            code = self.pickup_location.strip()
            self.pickup_location = _key("pickup_location", code, "A code") if code else None
        problem = currency_problem(self.currency)
        if problem:
            raise FieldRefused("currency", problem)
        self.currency = self.currency.upper()
        if self.delivery_method != DM.CLICK_AND_COLLECT and self.shipping_address is None:
            raise FieldRefused(
                "shipping_address", f"Required for {self.delivery_method.value} delivery."
            )


_PHONE = re.compile(r"\+?[0-9 ().\-/]*")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


def _required(name: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise FieldRefused(name, "This field may not be blank.")
    return value


def _key(name: str, value: str, what: str) -> str:
    try:
        return code_normalise(value, what=what)
    except TextRefused as refused:
        raise FieldRefused(name, str(refused)) from None


def _price(value: Decimal) -> Decimal:
    """Return a unit price as the order line's column keeps it, or refuse it."""
    if not value.is_finite() or value < 0:
        raise FieldRefused("unit_price", "A price of 0 or more is required.")
    exponent = int(value.as_tuple().exponent)
    if -exponent > PRICE_PLACES:
        raise FieldRefused("unit_price", f"No more than {PRICE_PLACES} decimal places.")
    if value >= Decimal(10) ** (PRICE_DIGITS - PRICE_PLACES):
        raise FieldRefused(
            "unit_price", f"No more than {PRICE_DIGITS - PRICE_PLACES} digits before the point."
        )
    return value.quantize(Decimal(1).scaleb(-PRICE_PLACES)).copy_abs()


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
    # Why the order must not ship yet (Order.held_for); empty: it ships when ready.
    held_for: str = ""


def phone_digits(phone: str) -> str:
    """Return the digits of a phone number, with an international 00 prefix folded into +."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[2:] if digits.startswith("00") else digits
