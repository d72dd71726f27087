"""Shipments and stock figures reach the storefronts, through the outbox, against fake
Shopify and WooCommerce servers on localhost."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from connectors.outbound_models import ConnectorHealth, RemoteRef, ShipmentPush, StockSync
from connectors.services.outbound import connector_push, stock_push_all
from inventory.selectors import available_by_location
from inventory.services import stock_adjust
from orders.models import Channel
from orders.services.fulfilments import fulfilment_ship
from tests.connectors.fakes.base import Answer
from tests.connectors.outbound.helpers import (
    SHOP_LOCATION,
    connect,
    events_read,
    shopify_order,
    woocommerce_order,
)
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("producers_started")]


def shipped(order, *, tracking: str, carrier: str = "colissimo"):
    fulfilment = order.fulfilments.get()
    return fulfilment_ship(fulfilment_id=fulfilment.pk, carrier=carrier, tracking_number=tracking)


# -- shipments --------------------------------------------------------------------------


def test_a_shipment_reaches_shopify_as_a_fulfillment_with_carrier_and_tracking(shopify):
    # given: a Shopify order placed in the OMS through the web channel, and stock
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.order_add(shopify_order(5001, [("TEE-1", 2)]), updated_at=shopify.now)
    order = place([(product_get("TEE-1"), 2)], external_id="5001")

    # when: the warehouse ships it, and the relay and the sender run
    shipped(order, tracking="6A1234567")
    events_read()
    done = connector_push(connector=connector)

    # then: one fulfillment on the order's fulfillment order, with carrier and tracking
    assert done.shipments == 1
    assert len(shopify.fulfillments) == 1
    created = shopify.fulfillments[0]
    assert created["trackingInfo"] == {"company": "colissimo", "number": "6A1234567"}
    fulfilment_order = shopify.orders[5001]["fulfillment_orders"][0]
    assert created["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": fulfilment_order["id"],
            "fulfillmentOrderLineItems": [
                {"id": fulfilment_order["lines"][0]["id"], "quantity": 2}
            ],
        }
    ]
    assert fulfilment_order["status"] == "CLOSED"
    push = ShipmentPush.objects.get()
    assert (push.status, push.attempts) == ("done", 1)
    assert push.note.startswith("fulfilled as gid://shopify/Fulfillment/")
    assert ConnectorHealth.objects.get().last_success_at is not None


def test_a_shipment_told_again_after_a_lost_answer_makes_no_second_fulfillment(shopify):
    # given: a shipment Shopify has, whose answer the OMS never recorded
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.order_add(shopify_order(5002, [("TEE-1", 1)]), updated_at=shopify.now)
    shipped(place([(product_get("TEE-1"), 1)], external_id="5002"), tracking="6A999")
    events_read()
    connector_push(connector=connector)
    ShipmentPush.objects.update(status="waiting", done_at=None)

    # when: it is sent again, and the relay reads the same events again
    events_read()
    connector_push(connector=connector)

    # then: Shopify still has one fulfillment; the OMS knows it was there already
    assert len(shopify.fulfillments) == 1
    assert ShipmentPush.objects.get().note.startswith("already on the order")


def test_a_shipment_completes_the_woocommerce_order_with_its_tracking_in_meta(woocommerce):
    # given
    dc = warehouse("DC-PARIS")
    stocked(product("MUG-1"), dc, 5)
    connector = connect(woocommerce, locations={dc: "default"})
    woocommerce.order_add(
        woocommerce_order(727, [("MUG-1", 1)], at=woocommerce.now), modified=woocommerce.now
    )
    order = place([(product_get("MUG-1"), 1)], external_id="727")

    # when
    shipped(order, tracking="LP00112233FR", carrier="la-poste")
    events_read()
    connector_push(connector=connector)

    # then: status completed, the tracking in the order's meta, under one key per parcel
    remote = woocommerce.orders[727]
    assert remote["status"] == "completed"
    fulfilment = order.fulfilments.get()
    assert remote["meta_data"][0]["key"] == f"_oms_tracking_{fulfilment.pk}"
    assert remote["meta_data"][0]["value"] == {
        "carrier": "la-poste",
        "tracking_number": "LP00112233FR",
    }
    put = [c for c in woocommerce.calls if c.method == "PUT"]
    assert [c.path for c in put] == ["/wp-json/wc/v3/orders/727"]


def test_orders_of_a_channel_without_storefront_queue_no_shipment(shopify):
    # given: the storefront is connected to another channel
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 5)
    connect(shopify, locations={dc: SHOP_LOCATION}, channel="app")

    # when
    shipped(place([(product_get("TEE-1"), 1)], external_id="W-1"), tracking="X1")
    events_read()

    # then
    assert not ShipmentPush.objects.exists()


# -- stock ------------------------------------------------------------------------------


def test_each_mapped_location_gets_the_channels_available_quantity_after_buffers(shopify):
    # given: two warehouses mapped to two Shopify locations, a channel buffer
    paris, lyon = warehouse("DC-PARIS"), warehouse("DC-LYON", lat=45.76, lon=4.83)
    Channel.objects.filter(code="web").update(buffer_percent=Decimal("10"), buffer_units=1)
    connector = connect(
        shopify, locations={paris: SHOP_LOCATION, lyon: "gid://shopify/Location/72"}
    )
    shopify.variant_add("TEE-1")

    # when: stock arrives, and an order takes some
    stocked(product("TEE-1"), paris, 20)
    stocked(product_get("TEE-1"), lyon, 4)
    events_read()
    connector_push(connector=connector)

    # then: the figures are the channel's, by the one availability rule
    expected = available_by_location(skus=["TEE-1"], channel=connector.channel)["TEE-1"]
    assert shopify.level("TEE-1", SHOP_LOCATION) == expected["DC-PARIS"] == 18
    assert shopify.level("TEE-1", "gid://shopify/Location/72") == expected["DC-LYON"] == 3
    quantities = shopify.set_calls[-1]
    assert {q["locationId"] for q in quantities} == {SHOP_LOCATION, "gid://shopify/Location/72"}
    row = StockSync.objects.get(sku="TEE-1")
    assert (row.dirty, row.pushed) == (False, {SHOP_LOCATION: 18, "gid://shopify/Location/72": 3})


def test_an_order_of_another_channel_lowers_the_storefronts_figure(shopify):
    # given
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 10)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    events_read()
    connector_push(connector=connector)
    assert shopify.level("TEE-1", SHOP_LOCATION) == 10

    # when: the app channel sells 3 (an allocation: no ledger line yet)
    place([(product_get("TEE-1"), 3)], channel="app")
    events_read()
    connector_push(connector=connector)

    # then
    assert shopify.level("TEE-1", SHOP_LOCATION) == 7


def test_a_hundred_changes_of_one_sku_make_one_call(shopify):
    # given
    dc = warehouse("DC-PARIS")
    tee = product("TEE-1")
    stocked(tee, dc, 500)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")

    # when: a hundred movements, read by several relay runs, before the sender comes
    for index in range(100):
        stock_adjust(product=tee, location=dc, quantity=-1, reason="shrinkage")
        if index % 10 == 0:
            events_read()
    events_read()
    done = connector_push(connector=connector)

    # then: one call, with the last figure
    assert done.stock_calls == 1
    assert len(shopify.set_calls) == 1
    assert shopify.level("TEE-1", SHOP_LOCATION) == 400


def test_woocommerce_gets_the_sum_of_the_mapped_locations_in_one_batch(woocommerce):
    # given
    paris, lyon = warehouse("DC-PARIS"), warehouse("DC-LYON", lat=45.76, lon=4.83)
    connector = connect(woocommerce, locations={paris: "default", lyon: "default"})
    woocommerce.product_add("MUG-1", stock=0)
    woocommerce.product_add("MUG-2", stock=0)

    # when
    stocked(product("MUG-1"), paris, 3)
    stocked(product_get("MUG-1"), lyon, 4)
    stocked(product("MUG-2"), lyon, 9)
    events_read()
    connector_push(connector=connector)

    # then
    assert (woocommerce.stock("MUG-1"), woocommerce.stock("MUG-2")) == (7, 9)
    assert len(woocommerce.batches) == 1
    assert all(row["manage_stock"] is True for row in woocommerce.batches[0])


def test_a_stale_remote_id_is_looked_up_again_and_the_figure_sent(shopify):
    # given: a figure sent, then the product remade in Shopify (new ids, same SKU)
    dc = warehouse("DC-PARIS")
    tee = product("TEE-1")
    stocked(tee, dc, 10)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    events_read()
    connector_push(connector=connector)
    old = RemoteRef.objects.get().inventory_item_id
    shopify.variant_delete("TEE-1")
    new = shopify.variant_add("TEE-1")["item"]

    # when: the stock changes again
    stock_adjust(product=tee, location=dc, quantity=-2, reason="damaged")
    events_read()
    connector_push(connector=connector)

    # then: the new inventory item has the figure, and its id is kept
    assert old != new
    assert shopify.levels[(new, SHOP_LOCATION)] == 8
    assert RemoteRef.objects.get().inventory_item_id == new
    assert StockSync.objects.get().dirty is False


def test_a_stale_id_in_a_shopify_batch_does_not_leave_the_other_skus_behind(shopify):
    # given: two SKUs sent, then one of them remade in Shopify (Shopify then refuses the
    # whole batch that names its old inventory item)
    dc = warehouse("DC-PARIS")
    tee, cap = product("TEE-1"), product("CAP-1")
    stocked(tee, dc, 10)
    stocked(cap, dc, 20)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.variant_add("CAP-1")
    events_read()
    connector_push(connector=connector)
    shopify.variant_delete("TEE-1")
    shopify.variant_add("TEE-1")

    # when: both change
    stock_adjust(product=tee, location=dc, quantity=-1, reason="damaged")
    stock_adjust(product=cap, location=dc, quantity=-1, reason="damaged")
    events_read()
    connector_push(connector=connector)

    # then: both figures are Shopify's
    assert shopify.level("TEE-1", SHOP_LOCATION) == 9
    assert shopify.level("CAP-1", SHOP_LOCATION) == 19
    assert not StockSync.objects.filter(dirty=True).exists()


def test_a_woocommerce_product_deleted_is_looked_up_again(woocommerce):
    # given
    dc = warehouse("DC-PARIS")
    mug = product("MUG-1")
    stocked(mug, dc, 10)
    connector = connect(woocommerce, locations={dc: "default"})
    woocommerce.product_add("MUG-1", stock=0)
    events_read()
    connector_push(connector=connector)
    woocommerce.product_delete("MUG-1")
    woocommerce.product_add("MUG-1", stock=0)

    # when
    stock_adjust(product=mug, location=dc, quantity=-1, reason="damaged")
    events_read()
    connector_push(connector=connector)

    # then
    assert woocommerce.stock("MUG-1") == 9


def test_a_sku_the_storefront_does_not_sell_is_left_aside(shopify):
    # given
    dc = warehouse("DC-PARIS")
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    stocked(product("ONLY-IN-STORES"), dc, 10)

    # when
    events_read()
    connector_push(connector=connector)

    # then: looked up once, no stock call, nothing left waiting
    assert RemoteRef.objects.get().missing is True
    assert shopify.set_calls == []
    assert StockSync.objects.get().dirty is False


def test_a_full_push_sends_figures_the_storefront_should_already_have(shopify):
    # given: a figure sent, then changed in Shopify's admin by someone
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 10)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    item = shopify.variant_add("TEE-1")["item"]
    events_read()
    connector_push(connector=connector)
    shopify.levels[(item, SHOP_LOCATION)] = 99

    # when
    stock_push_all(connector=connector)
    connector_push(connector=connector)

    # then
    assert shopify.level("TEE-1", SHOP_LOCATION) == 10


# -- rate limits and errors -------------------------------------------------------------


def test_a_429_pauses_the_connector_for_its_retry_after(shopify):
    # given
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 10)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.script.append(
        Answer(
            429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "30.0"}
        )
    )
    events_read()
    now = timezone.now()

    # when: the first call is refused, then the sender comes back early, then in time
    first = connector_push(connector=connector, now=now)
    early = connector_push(connector=connector, now=now + timedelta(seconds=10))
    calls_early = len(shopify.calls)
    later = connector_push(connector=connector, now=now + timedelta(seconds=31))

    # then
    assert first.paused and "429" in first.error
    assert early.paused and calls_early == 1
    assert not later.paused
    assert shopify.level("TEE-1", SHOP_LOCATION) == 10
    health = ConnectorHealth.objects.get()
    assert health.paused_until is None and "429" in health.last_error


def test_a_throttled_answer_waits_for_the_cost_budget_to_refill(shopify):
    # given: the bucket is spent
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 10)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.bucket = 0.0
    events_read()
    now = timezone.now()
    shopify.now = now

    # when
    first = connector_push(connector=connector, now=now)

    # then: THROTTLED (HTTP 200) paused the connector as long as the bucket needs
    assert first.paused and "throttled" in first.error
    health = ConnectorHealth.objects.get()
    assert health.paused_until is not None
    assert timedelta(seconds=1) <= health.paused_until - now <= timedelta(seconds=3)
    shopify.now = now + timedelta(seconds=5)
    assert not connector_push(connector=connector, now=now + timedelta(seconds=5)).paused
    assert shopify.level("TEE-1", SHOP_LOCATION) == 10


def test_woocommerce_server_errors_back_off_and_then_deliver(woocommerce):
    # given
    dc = warehouse("DC-PARIS")
    stocked(product("MUG-1"), dc, 4)
    connector = connect(woocommerce, locations={dc: "default"})
    woocommerce.product_add("MUG-1", stock=0)
    woocommerce.script.extend(
        [Answer(500, {"code": "internal_server_error", "message": "Error"})] * 2
    )
    events_read()
    now = timezone.now()

    # when
    first = connector_push(connector=connector, now=now)
    health = ConnectorHealth.objects.get()
    second = connector_push(connector=connector, now=health.paused_until)
    health = ConnectorHealth.objects.get()
    third = connector_push(connector=connector, now=health.paused_until)

    # then: each failure waited longer; the third try went through
    assert first.paused and second.paused and not third.paused
    assert health.failures == 2
    assert woocommerce.stock("MUG-1") == 4


def test_a_refused_shipment_waits_while_the_others_go(shopify):
    # given: one order Shopify does not know, one it does
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    shopify.order_add(shopify_order(5010, [("TEE-1", 1)]), updated_at=shopify.now)
    shipped(place([(product_get("TEE-1"), 1)], external_id="4040"), tracking="T-UNKNOWN")
    shipped(place([(product_get("TEE-1"), 1)], external_id="5010"), tracking="T-KNOWN")
    events_read()

    # when
    connector_push(connector=connector)

    # then
    waiting = ShipmentPush.objects.get(status="waiting")
    assert "no order 4040" in waiting.last_error and waiting.attempts == 1
    assert ShipmentPush.objects.filter(status="done").count() == 1
    assert [f["trackingInfo"]["number"] for f in shopify.fulfillments] == ["T-KNOWN"]


def product_get(sku: str):
    from inventory.models import Product

    return Product.objects.get(sku=sku)


def test_connecting_anew_forgets_the_remote_ids_and_sends_every_figure(shopify):
    # given: a connection whose ids and figures are kept
    from connectors.services.config import connector_set

    dc, lyon = warehouse("DC-PARIS"), warehouse("DC-LYON", lat=45.76, lon=4.83)
    stocked(product("TEE-1"), dc, 10)
    stocked(product_get("TEE-1"), lyon, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    events_read()
    connector_push(connector=connector)
    assert shopify.level("TEE-1", SHOP_LOCATION) == 10

    # when: the channel is connected again, Lyon mapped as well
    connector_set(
        channel=connector.channel,
        kind="shopify",
        base_url=shopify.base_url,
        webhook_secret="whsec_again_0000",
        access_token=shopify.token,
        locations={dc: SHOP_LOCATION, lyon: "gid://shopify/Location/72"},
    )
    connector_push(connector=connector)

    # then: looked up again, and both locations have their figure
    assert shopify.level("TEE-1", "gid://shopify/Location/72") == 5
    assert shopify.level("TEE-1", SHOP_LOCATION) == 10
    lookups = [c for c in shopify.calls if "productVariants" in c.json["query"]]
    assert len(lookups) == 2
