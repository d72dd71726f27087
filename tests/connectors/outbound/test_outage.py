"""A storefront down for ten minutes: everything owed arrives once it is back, once.

Time is the test's: the sender is given `now`, and the fake storefront answers 503 until
its own clock passes the end of the outage; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.outbound_models import ConnectorHealth, ShipmentPush, StockSync
from connectors.services.outbound import connector_push
from inventory.models import Product
from inventory.selectors import available_by_location
from inventory.services import stock_adjust
from orders.services.fulfilments import fulfilment_ship
from tests.connectors.outbound.helpers import (
    SHOP_LOCATION,
    connect,
    events_read,
    shopify_order,
    woocommerce_order,
)
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("producers_started")]
SKUS = ["TEE-1", "TEE-2", "TEE-3"]
OUTAGE = timedelta(minutes=10)


def until_settled(connector, storefront, start):
    """Run the sender as beat would, from `start`, honouring the pauses, until nothing
    waits; return the moment it was done."""
    now = start
    for _ in range(50):
        storefront.now = now
        events_read()
        connector_push(connector=connector, now=now)
        waiting = (
            ShipmentPush.objects.filter(status="waiting").exists()
            or StockSync.objects.filter(dirty=True).exists()
        )
        if not waiting:
            return now
        paused = ConnectorHealth.objects.get().paused_until
        now = max(now + timedelta(seconds=30), paused or now)
    raise AssertionError("still waiting after 50 rounds")


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_every_shipment_and_the_last_figure_of_every_sku_arrive_after_ten_minutes_down(
    kind, request
):
    # given: three orders from the storefront, stock of three SKUs, all told already
    storefront = request.getfixturevalue(kind)
    dc = warehouse("DC-PARIS")
    products = {sku: product(sku) for sku in SKUS}
    for sku in SKUS:
        stocked(products[sku], dc, 50)
    remote = SHOP_LOCATION if kind == "shopify" else "default"
    connector = connect(storefront, locations={dc: remote})
    orders = []
    for index, sku in enumerate(SKUS):
        number = 7000 + index
        if kind == "shopify":
            storefront.variant_add(sku)
            storefront.order_add(shopify_order(number, [(sku, 1)]), updated_at=storefront.now)
        else:
            storefront.product_add(sku, stock=0)
            storefront.order_add(
                woocommerce_order(number, [(sku, 1)], at=storefront.now), modified=storefront.now
            )
        orders.append(place([(products[sku], 1)], external_id=str(number)))
    start = timezone.now()
    until_settled(connector, storefront, start)
    before = len(storefront.calls)

    # when: the storefront goes down for ten minutes, while the warehouse ships the three
    # orders and the stock of every SKU moves, minute after minute
    t0 = start + timedelta(minutes=1)
    storefront.down_until = t0 + OUTAGE
    for minute in range(10):
        now = t0 + timedelta(minutes=minute)
        storefront.now = now
        if minute < len(orders):
            fulfilment = orders[minute].fulfilments.get()
            fulfilment_ship(
                fulfilment_id=fulfilment.pk, carrier="colissimo", tracking_number=f"TRK-{minute}"
            )
        for sku in SKUS:
            stock_adjust(product=products[sku], location=dc, quantity=-1, reason="shrinkage")
        events_read()
        connector_push(connector=connector, now=now)
    probes = len(storefront.calls) - before
    after_outage = len(storefront.calls)
    done_at = until_settled(connector, storefront, t0 + OUTAGE)

    # then: while down, the storefront was probed, not hammered
    assert 1 <= probes <= 10
    # every shipment arrived exactly once
    if kind == "shopify":
        numbers = [f["trackingInfo"]["number"] for f in storefront.fulfillments]
        assert sorted(numbers) == ["TRK-0", "TRK-1", "TRK-2"]
    else:
        for index in range(len(orders)):
            placed = storefront.orders[7000 + index]
            assert placed["status"] == "completed"
            tracking = [m["value"]["tracking_number"] for m in placed["meta_data"]]
            assert tracking == [f"TRK-{index}"]
    assert ShipmentPush.objects.filter(status="done").count() == 3
    # the last figure of every SKU is the storefront's, sent once after the return
    figures = available_by_location(skus=SKUS, channel=connector.channel)
    for sku in SKUS:
        expected = figures[sku]["DC-PARIS"]
        assert expected == 50 - 1 - 10
        if kind == "shopify":
            assert storefront.level(sku, SHOP_LOCATION) == expected
        else:
            assert storefront.stock(sku) == expected
    stock_calls = [
        c
        for c in storefront.calls[after_outage:]
        if (c.json and "inventorySetQuantities" in str(c.json.get("query", "")))
        or c.path.endswith("products/batch")
    ]
    assert len(stock_calls) == 1
    assert done_at - (t0 + OUTAGE) < timedelta(minutes=15)
    assert ConnectorHealth.objects.get().failures == 0


def test_nothing_is_sent_twice_when_the_storefront_comes_back_between_two_senders(shopify):
    # given: a shipment claimed by a sender that died before recording the answer
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.order_add(shopify_order(7100, [("TEE-1", 1)]), updated_at=shopify.now)
    order = place([(Product.objects.get(sku="TEE-1"), 1)], external_id="7100")
    fulfilment_ship(
        fulfilment_id=order.fulfilments.get().pk, carrier="dpd", tracking_number="DPD-1"
    )
    events_read()
    now = timezone.now()
    connector_push(connector=connector, now=now)
    ShipmentPush.objects.update(status="waiting", claimed_until=now + timedelta(minutes=2))

    # when: a second sender comes while the claim holds, then after it ran out
    connector_push(connector=connector, now=now + timedelta(minutes=1))
    connector_push(connector=connector, now=now + timedelta(minutes=3))

    # then
    assert [f["trackingInfo"]["number"] for f in shopify.fulfillments] == ["DPD-1"]
    assert ShipmentPush.objects.get().status == "done"
