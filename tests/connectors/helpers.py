"""Storefront payloads from the platforms' references (fixtures/), signed as they sign."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def shopify_order(**changes: Any) -> dict[str, Any]:
    """Shopify's sample order, not cancelled (as orders/create and orders/updated send it)."""
    order = copy.deepcopy(fixture("shopify_orders_cancelled.json"))
    order.update(cancelled_at=None, cancel_reason=None, financial_status="paid", confirmed=True)
    order.update(changes)
    return order


def woocommerce_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(fixture("woocommerce_order.json"))
    order.update(changes)
    return order


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


SHOPIFY_SECRET = "shpss_webhook_secret_0123"
WOO_SECRET = "wc_webhook_secret_4567"


def connect(channel_code: str = "shop", kind: str = "shopify", **channel_fields: Any):
    """Return a channel connected to a storefront of `kind` (through the service)."""
    from connectors.services.config import connector_set
    from orders.models import Channel

    channel, _ = Channel.objects.get_or_create(
        code=channel_code, defaults={"name": channel_code.title(), **channel_fields}
    )
    connector, _ = connector_set(
        channel=channel,
        kind=kind,
        base_url=f"https://{channel_code}.example.com",
        webhook_secret=SHOPIFY_SECRET if kind == "shopify" else WOO_SECRET,
        access_token="token_" + "x" * 20,
        locations={},
    )
    return connector


def post(
    client,
    payload: Any,
    *,
    channel: str = "shop",
    kind: str = "shopify",
    topic: str = "orders/create",
    webhook_id: str = "",
    secret: str | None = None,
    raw: bytes | None = None,
):
    """POST a storefront webhook, signed as that storefront signs; return the answer (the
    body stored, then applied in the same request)."""
    body = raw if raw is not None else json.dumps(payload).encode()
    if kind == "shopify":
        secret = SHOPIFY_SECRET if secret is None else secret
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature(body, secret)}
        if webhook_id:
            headers["X-Shopify-Webhook-Id"] = webhook_id
    else:
        secret = WOO_SECRET if secret is None else secret
        headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature(body, secret)}
        if webhook_id:
            headers["X-WC-Webhook-Delivery-ID"] = webhook_id
    return client.post(
        f"/connectors/{channel}/webhook/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def json_body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def send(client, payload: Any, **options: Any):
    """POST a storefront webhook as `post` does, then run the worker's sweep as it would
    run after the answer (nothing left for it when the request applied the body); return
    the HTTP answer."""
    from connectors.services.inbound import storefront_orders_apply_due

    response = post(client, payload, **options)
    storefront_orders_apply_due()
    return response


def store_only(payload: Any, *, channel: str = "shop", webhook_id: str = ""):
    """Store a Shopify body as a request that died before applying it would have left it
    (no claim: as after the claim lapsed); return the stored row."""
    from connectors.models import Connector
    from connectors.services.inbound import webhook_store

    connector = Connector.objects.get(channel__code=channel)
    headers = {"X-Shopify-Topic": "orders/create"}
    if webhook_id:
        headers["X-Shopify-Webhook-Id"] = webhook_id
    return webhook_store(
        connector=connector, headers=headers, body=json.dumps(payload).encode()
    ).storefront_order


def outcome(webhook_id: str = "") -> dict[str, Any]:
    """Return what became of a stored webhook (by its delivery id, else the last stored), in
    the shape of the webhook's answer."""
    from connectors.models import StorefrontOrder

    rows = StorefrontOrder.objects.select_related("order").order_by("-id")
    row = rows.get(webhook_id=webhook_id) if webhook_id else rows.first()
    assert row is not None
    return {
        "status": row.status,
        "reason": row.reason,
        "order": row.order.number if row.order is not None else None,
    }
