"""Storefronts connected to the `web` channel, their fakes running, and the relay's
producers run by hand (what the relay task does at the start of each run)."""

from __future__ import annotations

from datetime import datetime

from connectors.models import Connector, ConnectorLocation
from connectors.sealing import secret_seal
from inventory.models import Location
from orders.models import Channel
from outbox.producers import producers_run
from tests.connectors.fakes.shopify import FakeShopify
from tests.connectors.fakes.woocommerce import FakeWooCommerce

SHOP_LOCATION = "gid://shopify/Location/71"


def connect(
    storefront: FakeShopify | FakeWooCommerce,
    *,
    locations: dict[Location, str],
    channel: str = "web",
) -> Connector:
    if isinstance(storefront, FakeShopify):
        kind, token = "shopify", storefront.token
    else:
        kind, token = "woocommerce", "ck_test_0000:cs_test_0000"
    connector = Connector.objects.create(
        channel=Channel.objects.get(code=channel),
        kind=kind,
        base_url=storefront.base_url,
        webhook_secret_sealed=secret_seal("whsec_test_secret"),
        access_token_sealed=secret_seal(token),
    )
    for location, remote in locations.items():
        ConnectorLocation.objects.create(connector=connector, location=location, remote_id=remote)
    return connector


def events_read() -> int:
    """Run the relay's producers: the ledger's stock.changed, then the connectors' reader."""
    return producers_run()


def shopify_order(number: int, lines: list[tuple[str, int]]) -> dict:
    return {
        "id": number,
        "name": f"#{number}",
        "email": "ada@example.com",
        "currency": "EUR",
        "created_at": "2026-12-01T10:00:00+01:00",
        "cancelled_at": None,
        "line_items": [
            {"id": number * 10 + i, "sku": sku, "quantity": quantity, "price": "19.90"}
            for i, (sku, quantity) in enumerate(lines)
        ],
        "shipping_address": {
            "name": "Ada Lovelace",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "address1": "1 rue de Rivoli",
            "city": "Paris",
            "zip": "75001",
            "country_code": "FR",
        },
    }


def woocommerce_order(number: int, lines: list[tuple[str, int]], *, at: datetime) -> dict:
    return {
        "id": number,
        "status": "processing",
        "currency": "EUR",
        "date_created_gmt": at.strftime("%Y-%m-%dT%H:%M:%S"),
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "shipping": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "address_1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
        },
        "line_items": [
            {"id": number * 10 + i, "sku": sku, "quantity": quantity, "price": 19.9}
            for i, (sku, quantity) in enumerate(lines)
        ],
        "meta_data": [],
    }
