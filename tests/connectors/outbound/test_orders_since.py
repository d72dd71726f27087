"""Orders read back from the storefronts for reconciliation read, through the inbound
adapter, as the same order their webhooks carry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.adapters import inbound_adapter
from connectors.adapters.outbound import outbound_adapter
from tests.connectors.helpers import shopify_order as shopify_sample
from tests.connectors.helpers import woocommerce_order as woocommerce_sample
from tests.connectors.outbound.helpers import connect

pytestmark = pytest.mark.django_db


def test_shopify_orders_updated_since_read_as_their_webhook_reads(shopify):
    # given: Shopify's sample order (its webhook body), one updated before the moment asked
    sample = shopify_sample()
    sample["line_items"][1]["sku"] = "IPOD2008BLACK"
    sample["shipping_lines"] = [{"code": "Standard", "title": "Standard shipping"}]
    older = shopify_sample(id=1001)
    shopify.order_add(sample, updated_at=shopify.now)
    shopify.order_add(older, updated_at=shopify.now - timedelta(hours=2))
    connector = connect(shopify, locations={})

    # when
    read = outbound_adapter("shopify").orders_updated_since(
        connector=connector, since=shopify.now - timedelta(hours=1)
    )

    # then: only the recent one, and it is the order its webhook describes
    assert [payload["id"] for payload in read] == [sample["id"]]
    inbound = inbound_adapter("shopify")
    from_webhook = inbound.order_read(payload=sample, channel_code="web")
    from_reconcile = inbound.order_read(payload=read[0], channel_code="web")
    assert from_reconcile == from_webhook
    assert inbound.remote_order_id(read[0]) == inbound.remote_order_id(sample)
    query = shopify.calls[-1].json["variables"]["query"]
    assert query.startswith("updated_at:>'") and "T" in query


def test_a_cancelled_shopify_order_reads_as_a_cancellation(shopify):
    # given
    shopify.order_add(shopify_sample(cancelled_at="2026-12-01T10:00:00Z"), updated_at=shopify.now)
    connector = connect(shopify, locations={})

    # when
    (read,) = outbound_adapter("shopify").orders_updated_since(
        connector=connector, since=shopify.now - timedelta(minutes=5)
    )

    # then
    assert inbound_adapter("shopify").is_cancellation(topic="orders/updated", payload=read)


def test_woocommerce_orders_modified_after_are_paged_through(woocommerce):
    # given: 150 orders modified after the moment asked (two pages of 100), one before
    for number in range(150):
        woocommerce.order_add(woocommerce_sample(id=2000 + number), modified=woocommerce.now)
    woocommerce.order_add(
        woocommerce_sample(id=1999), modified=woocommerce.now - timedelta(hours=3)
    )
    connector = connect(woocommerce, locations={})

    # when
    read = outbound_adapter("woocommerce").orders_updated_since(
        connector=connector, since=woocommerce.now - timedelta(hours=1)
    )

    # then
    assert sorted(payload["id"] for payload in read) == list(range(2000, 2150))
    pages = [c.query["page"] for c in woocommerce.calls if c.path.endswith("/orders")]
    assert pages == [["1"], ["2"]]
    assert woocommerce.calls[0].query["dates_are_gmt"] == ["true"]
    # as the REST API shows an order: the body of its order.updated webhook
    first = next(payload for payload in read if payload["id"] == 2000)
    assert {k: v for k, v in first.items() if k != "date_modified_gmt"} == {
        k: v for k, v in woocommerce_sample(id=2000).items() if k != "date_modified_gmt"
    }
