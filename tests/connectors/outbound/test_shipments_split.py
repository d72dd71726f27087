"""Shopify orders whose lines Shopify split into fulfillment orders at several of its
locations: each shipment is fulfilled on the fulfillment orders, and line items, where its
units are, one fulfillmentCreate per Shopify location (Shopify takes fulfillment orders of
one location per call)."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.utils import timezone

from connectors.outbound_models import ShipmentPush
from connectors.services.outbound import connector_push
from inventory.models import Product
from orders.services.fulfilments import fulfilment_ship
from tests.connectors.outbound.helpers import connect, events_read, shopify_order
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("producers_started")]

PARIS = "gid://shopify/Location/71"
LYON = "gid://shopify/Location/72"


def fulfillment_order_at(shopify, number: int, location: str) -> dict:
    return next(
        fo for fo in shopify.orders[number]["fulfillment_orders"] if fo["location"] == location
    )


def line_of(fulfillment_order: dict, sku: str) -> dict:
    return next(line for line in fulfillment_order["lines"] if line["sku"] == sku)


def created_at(shopify, location: str) -> list[dict]:
    """The fulfillments created at `location`, by the fulfillment orders they name."""
    ids = {
        fo["id"]
        for order in shopify.orders.values()
        for fo in order["fulfillment_orders"]
        if fo["location"] == location
    }
    return [
        f
        for f in shopify.fulfillments
        if {p["fulfillmentOrderId"] for p in f["lineItemsByFulfillmentOrder"]} <= ids
    ]


def ship_all(order, tracking: str) -> None:
    for n, fulfilment in enumerate(order.fulfilments.order_by("location__code")):
        fulfilment_ship(
            fulfilment_id=fulfilment.pk, carrier="colissimo", tracking_number=f"{tracking}-{n}"
        )


def test_each_warehouse_fulfils_the_fulfillment_order_at_its_own_shopify_location(shopify):
    # given: two warehouses mapped to two Shopify locations, each holding one of the SKUs,
    # and Shopify's order split the same way
    paris = warehouse("DC-PARIS")
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(product("TEE-1"), paris, 5)
    stocked(product("MUG-1"), lyon, 5)
    connector = connect(shopify, locations={paris: PARIS, lyon: LYON})
    shopify.order_add(
        shopify_order(5101, [("TEE-1", 2), ("MUG-1", 1)]),
        updated_at=shopify.now,
        split={PARIS: [("TEE-1", 2)], LYON: [("MUG-1", 1)]},
    )
    order = place(
        [(Product.objects.get(sku="TEE-1"), 2), (Product.objects.get(sku="MUG-1"), 1)],
        external_id="5101",
    )
    assert order.fulfilments.count() == 2

    # when: both parcels leave, and the sender runs
    ship_all(order, "6A")
    events_read()
    done = connector_push(connector=connector)

    # then: one fulfillment per Shopify location, on its own fulfillment order and lines
    assert done.shipments == 2
    at_paris, at_lyon = (
        fulfillment_order_at(shopify, 5101, PARIS),
        fulfillment_order_at(shopify, 5101, LYON),
    )
    assert [f["lineItemsByFulfillmentOrder"] for f in created_at(shopify, PARIS)] == [
        [
            {
                "fulfillmentOrderId": at_paris["id"],
                "fulfillmentOrderLineItems": [
                    {"id": line_of(at_paris, "TEE-1")["id"], "quantity": 2}
                ],
            }
        ]
    ]
    assert [f["lineItemsByFulfillmentOrder"] for f in created_at(shopify, LYON)] == [
        [
            {
                "fulfillmentOrderId": at_lyon["id"],
                "fulfillmentOrderLineItems": [
                    {"id": line_of(at_lyon, "MUG-1")["id"], "quantity": 1}
                ],
            }
        ]
    ]
    assert (at_paris["status"], at_lyon["status"]) == ("CLOSED", "CLOSED")
    assert set(ShipmentPush.objects.values_list("status", flat=True)) == {"done"}


def test_one_sku_split_across_locations_is_taken_where_each_parcel_left_from(shopify):
    # given: three units of one SKU, two assigned by Shopify to Paris and one to Lyon, and
    # the OMS sourcing them the same way (Paris holds two, Lyon one)
    paris = warehouse("DC-PARIS")
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    tee = product("TEE-1")
    stocked(tee, paris, 2)
    stocked(tee, lyon, 1)
    connector = connect(shopify, locations={paris: PARIS, lyon: LYON})
    shopify.order_add(
        shopify_order(5102, [("TEE-1", 3)]),
        updated_at=shopify.now,
        split={PARIS: [("TEE-1", 2)], LYON: [("TEE-1", 1)]},
    )
    order = place([(tee, 3)], external_id="5102")
    units = dict(
        order.fulfilments.values_list("location__code").annotate(n=Sum("allocations__quantity"))
    )
    assert units == {"DC-PARIS": 2, "DC-LYON": 1}

    # when: the Lyon parcel leaves first, then the Paris one
    lyon_fulfilment = order.fulfilments.get(location=lyon)
    fulfilment_ship(fulfilment_id=lyon_fulfilment.pk, carrier="dpd", tracking_number="LY-1")
    events_read()
    connector_push(connector=connector)
    at_paris, at_lyon = (
        fulfillment_order_at(shopify, 5102, PARIS),
        fulfillment_order_at(shopify, 5102, LYON),
    )
    # then: the Lyon unit closed Lyon's fulfillment order; Paris's is untouched
    assert (at_lyon["status"], at_paris["status"]) == ("CLOSED", "OPEN")
    assert line_of(at_paris, "TEE-1")["remaining"] == 2

    # when
    paris_fulfilment = order.fulfilments.get(location=paris)
    fulfilment_ship(fulfilment_id=paris_fulfilment.pk, carrier="dpd", tracking_number="PA-1")
    events_read()
    connector_push(connector=connector)
    # then
    assert at_paris["status"] == "CLOSED"
    assert [len(created_at(shopify, PARIS)), len(created_at(shopify, LYON))] == [1, 1]


def test_one_parcel_over_two_shopify_locations_is_two_fulfillments_sent_once_each(shopify):
    # given: Shopify assigned the mug to Lyon, but the OMS ships everything from Paris
    paris = warehouse("DC-PARIS")
    stocked(product("TEE-1"), paris, 5)
    stocked(product("MUG-1"), paris, 5)
    connector = connect(shopify, locations={paris: PARIS})
    shopify.order_add(
        shopify_order(5103, [("TEE-1", 1), ("MUG-1", 2)]),
        updated_at=shopify.now,
        split={PARIS: [("TEE-1", 1)], LYON: [("MUG-1", 2)]},
    )
    order = place(
        [(Product.objects.get(sku="TEE-1"), 1), (Product.objects.get(sku="MUG-1"), 2)],
        external_id="5103",
    )
    # and Shopify refuses the Lyon fulfillment once
    shopify.refuse_at[LYON] = 1

    # when
    ship_all(order, "6B")
    events_read()
    connector_push(connector=connector)

    # then: Paris's went through (the parcel's own location first); Lyon's waits its turn
    push = ShipmentPush.objects.get()
    assert (push.status, push.attempts) == ("waiting", 1)
    assert "cannot fulfill" in push.last_error
    assert [len(created_at(shopify, PARIS)), len(created_at(shopify, LYON))] == [1, 0]

    # when: its turn comes again
    ShipmentPush.objects.update(next_try_at=timezone.now())
    connector_push(connector=connector)

    # then: Lyon's units only, the Paris ones not twice, each under the parcel's tracking
    push.refresh_from_db()
    assert push.status == "done"
    assert "earlier as" in push.note
    assert [len(created_at(shopify, PARIS)), len(created_at(shopify, LYON))] == [1, 1]
    assert {f["trackingInfo"]["number"] for f in shopify.fulfillments} == {"6B-0"}
    at_lyon = fulfillment_order_at(shopify, 5103, LYON)
    assert created_at(shopify, LYON)[0]["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": at_lyon["id"],
            "fulfillmentOrderLineItems": [{"id": line_of(at_lyon, "MUG-1")["id"], "quantity": 2}],
        }
    ]
    assert fulfillment_order_at(shopify, 5103, PARIS)["status"] == "CLOSED"
    assert at_lyon["status"] == "CLOSED"

    # when: told once more (an answer lost on the way)
    ShipmentPush.objects.update(status="waiting", next_try_at=timezone.now())
    connector_push(connector=connector)
    # then: nothing more
    assert len(shopify.fulfillments) == 2
    assert ShipmentPush.objects.get().note.startswith("already on the order as")


def test_the_fake_refuses_fulfillment_orders_of_two_locations_in_one_call(shopify):
    # given
    shopify.order_add(
        shopify_order(5104, [("TEE-1", 1), ("MUG-1", 1)]),
        updated_at=shopify.now,
        split={PARIS: [("TEE-1", 1)], LYON: [("MUG-1", 1)]},
    )
    ids = [fo["id"] for fo in shopify.orders[5104]["fulfillment_orders"]]
    # when
    answer = shopify._fulfillment_create(
        {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": i} for i in ids]}
    )
    # then: as Shopify does
    assert answer["fulfillment"] is None
    assert "same location" in answer["userErrors"][0]["message"]
