"""WooCommerce's order webhooks, read (REST API v3 order resource).

Topics `order.created` and `order.updated` carry the whole order (a cancellation is an
update whose status is `cancelled`); the body is signed with the webhook's secret
(`X-WC-Webhook-Signature`), each delivery numbered (`X-WC-Webhook-Delivery-ID`). WooCommerce
never sends coordinates: the address is placed from its postcode or city.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

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

TOPICS = ("order.created", "order.updated")
# Statuses that end an order before it ships.
CANCELLED = frozenset({"cancelled", "refunded", "trash"})
# Statuses of an order not yet paid for: nothing to fulfil (yet). `order.updated` tells
# when it moves on to processing.
NOT_YET = frozenset({"pending", "failed", "checkout-draft"})


class WooCommerceInbound:
    kind = "woocommerce"
    topics: tuple[str, ...] = TOPICS
    signature_header = "X-WC-Webhook-Signature"

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        signature = header(headers, self.signature_header)
        return hmac_sha256_base64_matches(body=body, secret=secret, signature=signature)

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        return header(headers, "X-WC-Webhook-Topic")

    def webhook_id(self, headers: Mapping[str, str]) -> str:
        return header(headers, "X-WC-Webhook-Delivery-ID")

    def remote_order_id(self, payload: Payload) -> str:
        return text(payload.get("id"))

    def is_cancellation(self, *, topic: str, payload: Payload) -> bool:
        return text(payload.get("status")) in CANCELLED

    def remote_updated_at(self, payload: Payload) -> datetime | None:
        return moment(payload.get("date_modified_gmt"), utc_if_naive=True)

    def order_read(self, *, payload: Payload, channel_code: str) -> RemoteOrder:
        remote_id = self.remote_order_id(payload)
        if not remote_id:
            raise PayloadRefused("The payload has no order id.", code="invalid")
        status = text(payload.get("status"))
        if status in NOT_YET:
            raise PayloadRefused(
                f"The order is '{status}' in WooCommerce: not paid for yet.", code="not_yet"
            )
        billing = as_object(payload.get("billing"))
        shipping = as_object(payload.get("shipping"))
        if not text(shipping.get("address_1")):
            raise PayloadRefused(
                "The order has no shipping address (a pickup or a digital order).",
                code="no_address",
            )
        email = text(billing.get("email"))
        if not email:
            raise PayloadRefused("The order has no customer e-mail address.", code="no_email")
        name = " ".join(
            part
            for part in (text(shipping.get("first_name")), text(shipping.get("last_name")))
            if part
        )
        lines = []
        for index, item in enumerate(as_list(payload.get("line_items")), start=1):
            item = as_object(item)
            # A variable product's line names its variation (`variation_id`), and its `sku`
            # is the variation's own: the unit sold, with its own stock, is the variation.
            sku = text(item.get("sku"))
            if not sku:
                title = text(item.get("name")) or f"line {index}"
                variation = text(item.get("variation_id"))
                which = (
                    f" (variation {variation} of product {text(item.get('product_id'))})"
                    if variation not in ("", "0")
                    else ""
                )
                raise PayloadRefused(f"Line {index} ({title}) has no SKU{which}.", code="no_sku")
            lines.append(
                {"sku": sku, "quantity": item.get("quantity"), "unit_price": _unit_price(item)}
            )
        if not lines:
            raise PayloadRefused("The order has no line to ship.", code="no_lines")
        body = order_body_read(
            {
                "channel": channel_code,
                "external_id": remote_id,
                "customer": {
                    "email": email,
                    "name": name,
                    "phone": phone_or_blank(shipping.get("phone"), billing.get("phone")),
                },
                "shipping_address": {
                    "line1": text(shipping.get("address_1")),
                    "line2": text(shipping.get("address_2")),
                    "city": text(shipping.get("city")),
                    "postcode": text(shipping.get("postcode")),
                    "country": text(shipping.get("country")),
                },
                "delivery_method": method_named(
                    f"{text(as_object(line).get('method_id'))} "
                    f"{text(as_object(line).get('method_title'))}"
                    for line in as_list(payload.get("shipping_lines"))
                ),
                "currency": text(payload.get("currency")),
                "lines": lines,
            }
        )
        return RemoteOrder(remote_id=remote_id, body=body, cancelled=status in CANCELLED)


def _unit_price(item: dict) -> object:
    # `price` is a JSON number in the REST v3 shape: two places, as the order line keeps it.
    price = item.get("price")
    if isinstance(price, int | float) and not isinstance(price, bool):
        return f"{price:.2f}"
    return price if isinstance(price, str) else "0"
