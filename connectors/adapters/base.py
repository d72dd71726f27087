"""The one interface every storefront is reached through.

A storefront module (connectors/shopify, connectors/woocommerce; PrestaShop or Magento
later) gives an object with these methods, registered by kind in connectors.adapters.
Inbound (what a webhook says): verify its signature, name its topic, its delivery id and
the storefront's order id, and turn its payload into the order input every channel uses
(orders.inputs.OrderBody), or say why it cannot. Outbound (what the OMS sends back):
shipments, stock quantities, the orders changed since a moment, the remote ids of SKUs.

Adapters hold no state and touch no database: the services in connectors.services decide
what is stored and applied, so every storefront gets the same guarantees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from core.exceptions import FieldErrors
from core.structs import struct_convert
from orders.inputs import OrderBody

# Everything a webhook's JSON payload can be read into.
Payload = dict[str, Any]


class PayloadRefused(Exception):
    """A payload that cannot become an order as it is; `reason` says why, for a person
    (kept on the storefront order, shown in the console's queue)."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        # A short name for the kind of refusal (unknown_sku, no_address, currency ...).
        self.code = code


@dataclass(frozen=True)
class RemoteOrder:
    """A storefront's order as the OMS reads it."""

    remote_id: str
    body: OrderBody
    cancelled: bool = False


@dataclass(frozen=True)
class ShipmentOut:
    """A shipment to tell the storefront about."""

    remote_order_id: str
    carrier: str
    tracking_number: str
    # (SKU, units) shipped by this parcel.
    lines: Sequence[tuple[str, int]] = ()
    tracking_url: str = ""
    # The storefront's id of the location it left from (the connector's location map), or
    # "" when that location is not mapped: a storefront that splits an order by location
    # (Shopify's fulfillment orders) is fulfilled there first.
    remote_location_id: str = ""


@dataclass(frozen=True)
class StockFigure:
    """The quantity the storefront should show for one SKU at one of its locations."""

    sku: str
    remote_location_id: str
    available: int


@dataclass(frozen=True)
class RemoteIds:
    """What the storefront calls one SKU: its own ids for the product, the variant and the
    stock item, as far as the platform has them."""

    sku: str
    product_id: str = ""
    variant_id: str = ""
    inventory_item_id: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


class InboundAdapter(Protocol):
    """What a storefront's webhooks say, read without touching the database."""

    kind: str
    # The header that carries the signature (checked before anything is stored).
    signature_header: str
    # The webhook topics about orders; others are kept and ignored.
    topics: tuple[str, ...]

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        """Return whether `body` was signed with `secret`, compared in constant time."""
        ...

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        """Return the webhook's topic ("orders/create", "order.updated" ...), or ""."""
        ...

    def webhook_id(self, headers: Mapping[str, str]) -> str:
        """Return the storefront's id of this delivery, or "" when it sends none."""
        ...

    def remote_order_id(self, payload: Payload) -> str:
        """Return the storefront's id of the order the payload is about, or ""."""
        ...

    def is_cancellation(self, *, topic: str, payload: Payload) -> bool:
        """Return whether the payload says the order is cancelled (whatever the topic)."""
        ...

    def remote_updated_at(self, payload: Payload) -> datetime | None:
        """Return when the storefront last changed the order, or None if it does not say."""
        ...

    def order_read(self, *, payload: Payload, channel_code: str) -> RemoteOrder:
        """Return the order the payload describes, as the order input of `channel_code`;
        raise PayloadRefused saying why it cannot be one."""
        ...


class OutboundAdapter(Protocol):
    """What the OMS sends to a storefront: one call per method, through the outbox."""

    def shipment_push(self, *, connector: Any, shipment: ShipmentOut) -> str:
        """Tell the storefront an order (or part of it) has shipped; return what it made of
        it, for people. Told twice, the storefront has it once."""
        ...

    def stock_push(
        self, *, connector: Any, figures: Sequence[StockFigure], ids: Mapping[str, RemoteIds]
    ) -> None:
        """Set the storefront's available quantities, absolutely. `ids` are the SKUs' remote
        ids as kept by the OMS (adapters keep nothing); RemoteNotFound names the SKUs whose
        ids the storefront no longer knows."""
        ...

    def orders_updated_since(self, *, connector: Any, since: datetime) -> list[Payload]:
        """Return the storefront's orders changed since `since`, each in its webhook shape
        (so that reconciliation feeds them to the same inbound path)."""
        ...

    def remote_ids_lookup(self, *, connector: Any, skus: Sequence[str]) -> dict[str, RemoteIds]:
        """Return the storefront's ids for these SKUs (those it knows)."""
        ...


class StorefrontAdapter(InboundAdapter, OutboundAdapter, Protocol):
    """A storefront, both ways."""


def hmac_sha256_base64_matches(*, body: bytes, secret: str, signature: str) -> bool:
    """Return whether `signature` is the base64 HMAC-SHA256 of `body` under `secret`.

    Both storefronts sign this way. `hmac.compare_digest` takes the same time wherever the
    first differing byte is, so the answer's timing tells nothing about the right value.
    """
    if not signature or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))


def header(headers: Mapping[str, str], name: str) -> str:
    """Return a header's value, whatever its case, or ""."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return value.strip()


def order_body_read(data: Payload) -> OrderBody:
    """Return `data` (the order input as a dict) as the OrderBody every channel sends, or
    raise PayloadRefused naming the field the order input refuses."""
    try:
        return struct_convert(data, OrderBody)
    except FieldErrors as refused:
        raise PayloadRefused(
            "The order does not read as an order: " + flat_errors(refused.errors) + ".",
            code="invalid",
        ) from None


def flat_errors(errors: Any, prefix: str = "") -> str:
    """Return nested field errors as one line: "lines.0.sku: Unknown SKU 'X'"."""
    if isinstance(errors, dict):
        parts = [flat_errors(value, f"{prefix}{key}.") for key, value in errors.items()]
    elif isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        return f"{prefix.rstrip('.')}: {' '.join(errors)}"
    elif isinstance(errors, list):
        parts = [
            flat_errors(item, f"{prefix}{index}.") for index, item in enumerate(errors) if item
        ]
    else:
        return f"{prefix.rstrip('.')}: {errors}"
    return "; ".join(part for part in parts if part)


def phone_or_blank(*candidates: Any) -> str:
    """Return the first candidate the order input takes as a phone number, else "": a
    storefront's free-text phone never keeps an order out."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            phone = candidate.strip()
            digits = sum(ch.isdigit() for ch in phone)
            if _PHONE.fullmatch(phone) and 4 <= digits <= 20 and len(phone) <= 32:
                return phone
    return ""


def text(value: Any) -> str:
    """Return a payload's value as stripped text ("" for null or a non-text value)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def moment(value: Any, *, utc_if_naive: bool = False) -> datetime | None:
    """Return an ISO 8601 moment from a payload, or None. A moment without an offset is
    taken as UTC only when the field says it is (WooCommerce's `*_gmt`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if found.tzinfo is None:
        return found.replace(tzinfo=UTC) if utc_if_naive else None
    return found


def as_object(value: Any) -> dict[str, Any]:
    """Return a payload's value if it is a JSON object, else {}."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """Return a payload's value if it is a JSON array, else []."""
    return value if isinstance(value, list) else []


def method_named(names: Iterable[str]) -> str:
    """Return the delivery method the shop's shipping lines name: same day or express when
    a code or title says so, standard otherwise (a shop's rates carry its own names)."""
    words = " ".join(names).lower().replace("-", " ").replace("_", " ")
    if "same day" in words:
        return "same_day"
    if "express" in words or "next day" in words:
        return "express"
    return "standard"


_PHONE = re.compile(r"\+?[0-9 ().\-/]*")
