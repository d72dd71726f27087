"""End to end with a real Celery worker: a stock movement and a shipment committed here reach
the storefront with nothing run by hand (the relay is kicked, its reader marks, the sender
is kicked and calls the storefront)."""

from __future__ import annotations

import pytest

from connectors.outbound_models import ShipmentPush
from inventory.models import Product
from inventory.services import stock_adjust
from orders.services.fulfilments import fulfilment_ship
from outbox.producers import producers_run
from tests.connectors.outbound.helpers import SHOP_LOCATION, connect, shopify_order
from tests.orders.helpers import place, product, stocked, warehouse
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_stock_and_a_shipment_reach_shopify_through_the_worker(shopify, celery_worker_process):
    # given: a relay that has run before (its cursors set), a connected shop
    stocked(product("SEED-0"), warehouse("SEED-DC", lat=50.6, lon=3.06), 1)
    producers_run()
    dc = warehouse("DC-PARIS")
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.order_add(shopify_order(8001, [("TEE-1", 2)]), updated_at=shopify.now)

    # when: stock arrives, moves, and an order of the shop ships
    tee = product("TEE-1")
    stocked(tee, dc, 10)
    stock_adjust(product=tee, location=dc, quantity=-1, reason="damaged")

    # then: the shop has the figure
    wait_for(lambda: shopify.level("TEE-1", SHOP_LOCATION) == 9, timeout=60)

    # when
    order = place([(Product.objects.get(sku="TEE-1"), 2)], external_id="8001")
    fulfilment_ship(
        fulfilment_id=order.fulfilments.get().pk, carrier="colissimo", tracking_number="6A42"
    )

    # then: the fulfillment, once, and the figure after the order's units left
    wait_for(lambda: ShipmentPush.objects.filter(status="done").exists(), timeout=60)
    assert [f["trackingInfo"]["number"] for f in shopify.fulfillments] == ["6A42"]
    wait_for(lambda: shopify.level("TEE-1", SHOP_LOCATION) == 7, timeout=60)
    assert connector.health.last_success_at is not None
