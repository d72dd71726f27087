"""Order capture: recorded and allocated in one transaction, by the sourcing engine."""

import pytest
from django.db.models import F

from fulfilment.models import Fulfilment
from inventory.models import Allocation, StockLevel
from inventory.reconcile import stock_drift
from orders.exceptions import OrderRejected
from orders.models import Channel, Order, OrderEvent
from orders.services import allocation
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def test_an_order_with_stock_is_allocated_and_sent_to_its_location():
    # given
    sku = product("TEE-1")
    paris = warehouse("DC-PARIS")
    stocked(sku, paris, 10)
    # when
    order = place([(sku, 3)])
    # then
    assert order.status == Order.Status.ALLOCATED
    assert len(order.number) == 9
    stock = StockLevel.objects.get(product=sku, location=paris)
    assert (stock.on_hand, stock.allocated, stock.available) == (10, 3, 7)
    allocation = Allocation.objects.get()
    assert (allocation.quantity, allocation.status) == (3, "open")
    fulfilment = Fulfilment.objects.get()
    assert (fulfilment.location, fulfilment.status, allocation.fulfilment) == (
        paris,
        "requested",
        fulfilment,
    )
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == ["created", "allocated", "fulfilment_requested"]
    explained = order.events.get(kind="allocated").data
    assert explained["strategy"] == "optimal" and explained["proven"] is True
    assert order.logistics_cost is not None and order.logistics_cost > 0
    assert stock_drift() == []


def test_the_cheapest_location_wins_not_the_first():
    # given: a dear store next door and a cheap warehouse a little further
    sku = product("MUG-1")
    store = warehouse("ST-NEAR", lat=48.857, lon=2.353, shipment_cost="12.00", unit_cost="2.00")
    dc = warehouse("DC-CHEAP", lat=48.95, lon=2.45, shipment_cost="4.00", unit_cost="0.20")
    stocked(sku, store, 5)
    stocked(sku, dc, 5)
    # when
    order = place([(sku, 2)])
    # then
    assert Allocation.objects.get(order_line__order=order).stock.location == dc


def test_an_order_split_over_two_locations_makes_two_fulfilments():
    # given
    a, b = product("A"), product("B")
    one, two = warehouse("DC-1"), warehouse("DC-2", lat=45.76, lon=4.84)
    stocked(a, one, 5)
    stocked(b, two, 5)
    # when
    order = place([(a, 1), (b, 1)])
    # then
    assert order.status == Order.Status.ALLOCATED
    assert set(order.fulfilments.values_list("location__code", flat=True)) == {"DC-1", "DC-2"}


def test_what_cannot_be_allocated_is_backordered():
    # given
    sku = product("RARE")
    stocked(sku, warehouse("DC-1"), 2)
    # when
    order = place([(sku, 5)])
    # then
    assert order.status == Order.Status.PARTIALLY_ALLOCATED
    assert sum(a.quantity for a in Allocation.objects.all()) == 2
    nothing = place([(sku, 1)], email="late@example.com")
    assert nothing.status == Order.Status.BACKORDERED
    assert nothing.events.filter(kind=OrderEvent.Kind.BACKORDERED).exists()
    assert not nothing.fulfilments.exists()


def test_the_same_external_id_answers_the_existing_order():
    # given
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 10)
    first = place([(sku, 1)], external_id="W-1")
    # when
    again = place([(sku, 1)], external_id="W-1")
    # then
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert StockLevel.objects.get().allocated == 1


def test_the_same_external_id_on_another_channel_is_another_order():
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 10)
    web = place([(sku, 1)], external_id="E-1", channel="web")
    app = place([(sku, 1)], external_id="E-1", channel="app")
    assert web.pk != app.pk


def test_a_channel_is_served_only_by_its_locations():
    # given
    sku = product("X")
    dc, store = warehouse("DC-1"), warehouse("ST-1", lat=48.86, lon=2.35)
    stocked(sku, dc, 5)
    stocked(sku, store, 5)
    Channel.objects.get(code="store").locations.set([store])
    # when
    order = place([(sku, 1)], channel="store")
    # then
    assert Allocation.objects.get(order_line__order=order).stock.location == store


def test_a_channel_buffer_keeps_the_last_units_from_the_marketplace():
    # given
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 5)
    Channel.objects.filter(code="marketplace").update(buffer_units=2)
    # when
    order = place([(sku, 5)], channel="marketplace")
    # then
    assert sum(a.quantity for a in Allocation.objects.filter(order_line__order=order)) == 3
    assert order.status == Order.Status.PARTIALLY_ALLOCATED


def test_locations_that_do_not_ship_or_are_inactive_are_not_used():
    sku = product("X")
    stocked(sku, warehouse("ST-SHOWROOM", ships=False), 5)
    stocked(sku, warehouse("DC-CLOSED", active=False), 5)
    order = place([(sku, 1)])
    assert order.status == Order.Status.BACKORDERED


def test_click_and_collect_allocates_at_the_pickup_store_only():
    # given: a cheaper warehouse has the stock too
    sku = product("X")
    store = StoreFactory(code="ST-PARIS", lat=48.86, lon=2.34, shipment_cost="9.00")
    stocked(sku, warehouse("DC-1", shipment_cost="1.00"), 10)
    stocked(sku, store, 2)
    # when
    order = place([(sku, 2)], delivery_method="click_and_collect", pickup_location=store)
    # then
    assert Allocation.objects.get(order_line__order=order).stock.location == store
    assert order.status == Order.Status.ALLOCATED


def test_click_and_collect_at_a_store_lacking_stock_is_refused_and_nothing_written():
    # given
    sku = product("X")
    store = StoreFactory(code="ST-PARIS")
    stocked(sku, warehouse("DC-1"), 10)
    stocked(sku, store, 1)
    # when
    with pytest.raises(OrderRejected) as error:
        place([(sku, 2)], delivery_method="click_and_collect", pickup_location=store)
    # then
    assert error.value.field == "pickup_location"
    assert Order.objects.count() == 0
    assert StockLevel.objects.filter(allocated__gt=0).count() == 0


def test_the_phone_is_searchable_by_its_digits():
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 1)
    order = place([(sku, 1)])
    assert order.customer_phone_digits == "33612345678"


def test_click_and_collect_at_a_store_without_it_is_refused():
    sku = product("X")
    store = StoreFactory(code="ST-NOCC", click_and_collect=False)
    stocked(sku, store, 5)
    with pytest.raises(OrderRejected) as error:
        place([(sku, 1)], delivery_method="click_and_collect", pickup_location=store)
    assert error.value.field == "pickup_location"
    assert Order.objects.count() == 0


def test_click_and_collect_at_a_store_outside_the_channel_is_refused():
    sku = product("X")
    store, other = StoreFactory(code="ST-A"), StoreFactory(code="ST-B")
    stocked(sku, store, 5)
    Channel.objects.get(code="app").locations.set([other])
    with pytest.raises(OrderRejected) as error:
        place([(sku, 1)], channel="app", delivery_method="click_and_collect", pickup_location=store)
    assert "does not serve channel 'app'" in error.value.message


def test_stock_taken_between_the_read_and_the_lock_is_planned_again_on_locked_rows(
    monkeypatch,
):
    # given: 5 units, and two reads each overtaken by another order taking 2 units before the
    # rows are locked
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 5)
    real_read, reads = allocation.sellable_stock, []

    def overtaken_read(**kwargs):
        found = real_read(**kwargs)
        reads.append(kwargs.get("only"))
        if len(reads) <= allocation.OPTIMISTIC_ATTEMPTS:
            StockLevel.objects.filter(product=sku).update(allocated=F("allocated") + 2)
        return found

    monkeypatch.setattr(allocation, "sellable_stock", overtaken_read)
    # when
    order = place([(sku, 4)])
    # then: the last attempt locked the rows first, and planned on what they hold
    assert len(reads) == allocation.OPTIMISTIC_ATTEMPTS + 1
    assert reads[-1] is not None
    assert order.status == Order.Status.PARTIALLY_ALLOCATED
    assert Allocation.objects.get().quantity == 1
    stock = StockLevel.objects.get(product=sku)
    assert (stock.on_hand, stock.allocated) == (5, 5)
