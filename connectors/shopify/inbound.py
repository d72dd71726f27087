"""Shopify's order webhooks, read (Admin API order resource, REST shape).

Topics `orders/create`, `orders/updated` and `orders/cancelled` each carry the whole
order; the body is signed with the app's webhook secret (`X-Shopify-Hmac-Sha256`), each
delivery has an id (`X-Shopify-Webhook-Id`) that a retry of it keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.adapters.base import (
    Payload,
    PayloadRefused,
    RemoteOrder,
    as_list,
    as_object,
    header,
    hmac_sha256_base64_matches,
    method_named,
    moment,
    order_body_read,
    phone_or_blank,
    text,
)

TOPICS = ("orders/create", "orders/updated", "orders/cancelled")


class ShopifyInbound:
    kind = "shopify"
    topics: tuple[str, ...] = TOPICS
    signature_header = "X-Shopify-Hmac-Sha256"

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        signature = header(headers, self.signature_header)
        return hmac_sha256_base64_matches(body=body, secret=secret, signature=signature)

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        return header(headers, "X-Shopify-Topic")

    def webhook_id(self, headers: Mapping[str, str]) -> str:
        return header(headers, "X-Shopify-Webhook-Id")

    def remote_order_id(self, payload: Payload) -> str:
        return text(payload.get("id"))

    def is_cancellation(self, *, topic: str, payload: Payload) -> bool:
        # orders/updated also tells a cancellation: the order's cancelled_at is set.
        return topic == "orders/cancelled" or bool(payload.get("cancelled_at"))

    def remote_updated_at(self, payload: Payload) -> datetime | None:
        return moment(payload.get("updated_at"))

    def order_read(self, *, payload: Payload, channel_code: str) -> RemoteOrder:
        remote_id = self.remote_order_id(payload)
        if not remote_id:
            raise PayloadRefused("The payload has no order id.", code="invalid")
        customer = as_object(payload.get("customer"))
        address = as_object(payload.get("shipping_address"))
        if not address or not text(address.get("address1")):
            raise PayloadRefused(
                "The order has no shipping address (a pickup or a digital order).",
                code="no_address",
            )
        email = (
            text(payload.get("email"))
            or text(payload.get("contact_email"))
            or text(customer.get("email"))
        )
        if not email:
            raise PayloadRefused("The order has no customer e-mail address.", code="no_email")
        name = text(address.get("name")) or " ".join(
            part
            for part in (text(customer.get("first_name")), text(customer.get("last_name")))
            if part
        )
        lines = []
        for index, item in enumerate(as_list(payload.get("line_items")), start=1):
            item = as_object(item)
            # After an order edit, current_quantity is what the customer still wants.
            quantity = item.get("current_quantity", item.get("quantity"))
            # Removed by an edit, or nothing to ship (a tip, a prepayment, a gift card).
            if quantity == 0 or item.get("requires_shipping") is False:
                continue
            sku = text(item.get("sku"))
            if not sku:
                title = text(item.get("title")) or text(item.get("name")) or f"line {index}"
                raise PayloadRefused(f"Line {index} ({title}) has no SKU.", code="no_sku")
            lines.append({"sku": sku, "quantity": quantity, "unit_price": _price(item)})
        if not lines:
            raise PayloadRefused("The order has no line to ship.", code="no_lines")
        body = order_body_read(
            {
                "channel": channel_code,
                "external_id": remote_id,
                "customer": {
                    "email": email,
                    "name": name,
                    "phone": phone_or_blank(
                        address.get("phone"), payload.get("phone"), customer.get("phone")
                    ),
                },
                "shipping_address": {
                    "line1": text(address.get("address1")),
                    "line2": text(address.get("address2")),
                    "city": text(address.get("city")),
                    "postcode": text(address.get("zip")),
                    "country": text(address.get("country_code")),
                    "lat": _coordinate(address.get("latitude")),
                    "lon": _coordinate(address.get("longitude")),
                },
                "delivery_method": method_named(
                    f"{text(as_object(line).get('code'))} {text(as_object(line).get('title'))}"
                    for line in as_list(payload.get("shipping_lines"))
                ),
                "currency": text(payload.get("currency")),
                "lines": lines,
            }
        )
        return RemoteOrder(
            remote_id=remote_id,
            body=body,
            cancelled=self.is_cancellation(topic="", payload=payload),
        )


def _price(item: dict[str, Any]) -> Any:
    # A decimal string in the shop's currency ("199.00"); the order input reads it exactly.
    price = item.get("price")
    return price if isinstance(price, str | int) and not isinstance(price, bool) else "0"


def _coordinate(value: Any) -> float | None:
    # Shopify geocodes most addresses; null when it could not.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
