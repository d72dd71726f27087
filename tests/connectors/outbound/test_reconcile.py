"""Reconciliation: orders a storefront never sent by webhook are read back and go through
the same inbound path; what already came is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import StorefrontOrder
from connectors.outbound_models import ConnectorHealth
from connectors.services.reconcile import connector_reconcile
from orders.models import Order
from tests.connectors.outbound.helpers import (
    SHOP_LOCATION,
    connect,
    shopify_order,
    woocommerce_order,
)
from tests.orders.helpers import product, stocked, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 10)
    return dc


def test_an_order_whose_webhook_never_came_is_placed(shopify, network):
    # given: the shop has an order the OMS never heard of
    connector = connect(shopify, locations={network: SHOP_LOCATION})
    shopify.order_add(shopify_order(6001, [("TEE-1", 2)]), updated_at=shopify.now)
    now = timezone.now()

    # when
    done = connector_reconcile(connector=connector, now=now)

    # then: one order, through the inbox like a webhook, and the sync moved on
    assert (done.read, done.applied, done.error) == (1, 1, "")
    order = Order.objects.get(external_id="6001")
    assert order.channel.code == "web"
    assert order.lines.get().quantity == 2
    row = StorefrontOrder.objects.get()
    assert (row.topic, row.status, row.order_id) == ("orders/updated", "applied", order.pk)
    assert row.webhook_id.startswith("reconcile:6001:")
    assert ConnectorHealth.objects.get().reconciled_until == now


def test_reconciling_twice_changes_nothing(shopify, network):
    # given
    connector = connect(shopify, locations={network: SHOP_LOCATION})
    shopify.order_add(shopify_order(6002, [("TEE-1", 1)]), updated_at=shopify.now)
    connector_reconcile(connector=connector)

    # when
    again = connector_reconcile(connector=connector)

    # then: read again (within the overlap), applied once
    assert again.read == 1 and again.applied == 0
    assert Order.objects.filter(external_id="6002").count() == 1
    assert StorefrontOrder.objects.count() == 1


def test_an_order_whose_latest_version_came_by_webhook_is_left_alone(shopify, network):
    # given: the webhook of the order's latest change was applied after that change
    connector = connect(shopify, locations={network: SHOP_LOCATION})
    shopify.order_add(
        shopify_order(6003, [("TEE-1", 1)]), updated_at=shopify.now - timedelta(minutes=2)
    )
    StorefrontOrder.objects.create(
        connector=connector,
        topic="orders/create",
        remote_order_id="6003",
        body=b"{}",
        status=StorefrontOrder.Status.APPLIED,
        received_at=shopify.now - timedelta(minutes=1),
    )

    # when
    done = connector_reconcile(connector=connector)

    # then
    assert (done.read, done.skipped, done.applied) == (1, 1, 0)
    assert StorefrontOrder.objects.count() == 1


def test_a_cancellation_whose_webhook_never_came_cancels(shopify, network):
    # given: the order came; its cancellation did not
    connector = connect(shopify, locations={network: SHOP_LOCATION})
    shopify.order_add(shopify_order(6004, [("TEE-1", 1)]), updated_at=shopify.now)
    connector_reconcile(connector=connector)
    shopify.orders[6004]["payload"]["cancelled_at"] = "2026-12-03T10:00:00Z"
    shopify.orders[6004]["updated_at"] = shopify.now = shopify.now + timedelta(minutes=1)

    # when
    connector_reconcile(connector=connector, now=timezone.now() + timedelta(minutes=1))

    # then
    assert Order.objects.get(external_id="6004").status == Order.Status.CANCELLED


def test_a_woocommerce_order_whose_webhook_never_came_is_placed(woocommerce, network):
    connector = connect(woocommerce, locations={network: "default"})
    woocommerce.order_add(
        woocommerce_order(6101, [("TEE-1", 3)], at=woocommerce.now), modified=woocommerce.now
    )

    done = connector_reconcile(connector=connector)

    assert done.applied == 1, StorefrontOrder.objects.values_list("status", "reason")
    assert Order.objects.get(external_id="6101").lines.get().quantity == 3


def test_a_storefront_down_keeps_the_sync_where_it_was(shopify, network):
    # given
    connector = connect(shopify, locations={network: SHOP_LOCATION})
    shopify.down_until = shopify.now + timedelta(minutes=10)

    # when
    done = connector_reconcile(connector=connector)

    # then
    assert "503" in done.error
    health = ConnectorHealth.objects.get()
    assert health.reconciled_until is None and "Reconciliation" in health.last_error
