"""Cancel, reject, ship, collect, and backorders filled as stock arrives."""

import pytest
from django.test import override_settings

from core.exceptions import ConflictError, NotFoundError
from fulfilment.models import Fulfilment
from inventory.models import Allocation, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services import stock_receive
from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.services.fulfilments import (
    RejectReason,
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)
from orders.services.lifecycle import (
    backorders_allocate,
    order_cancel,
    order_line_cancel,
    order_resource,
)
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def _stock(sku, location):
    return StockLevel.objects.get(product=sku, location=location)


def test_order_cancel_releases_allocations_and_cancels_requests():
    # given
    sku = product("X")
    dc = warehouse("DC-1")
    stocked(sku, dc, 5)
    order = place([(sku, 3)])
    # when
    order_cancel(order=order, actor=None, reason="customer changed mind")
    # then
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert _stock(sku, dc).allocated == 0
    assert not Allocation.objects.holding().exists()
    assert Fulfilment.objects.get().status == Fulfilment.Status.CANCELLED
    assert order.events.filter(kind="cancelled").exists()
    assert stock_drift() == []


def test_an_order_cannot_be_cancelled_once_shipped():
    # given
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 5)
    order = place([(sku, 1)])
    fulfilment_ship(fulfilment_id=order.fulfilments.get().pk, carrier="DHL", tracking_number="T1")
    # when / then
    with pytest.raises(InvalidTransition):
        order_cancel(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_ship_takes_units_out_of_on_hand_and_allocated_through_the_ledger():
    # given
    sku = product("X")
    dc = warehouse("DC-1")
    stocked(sku, dc, 5)
    order = place([(sku, 2)])
    fulfilment = order.fulfilments.get()
    fulfilment_accept(fulfilment_id=fulfilment.pk)
    # when
    fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="Colissimo", tracking_number="6A123")
    # then
    stock = _stock(sku, dc)
    assert (stock.on_hand, stock.allocated) == (3, 0)
    shipment = StockMovement.objects.get(kind="shipment")
    assert (shipment.quantity, shipment.reference) == (-2, f"order {order.number}")
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.lines.get().quantity_shipped == 2
    assert stock_drift() == []


def test_shipping_again_with_the_same_tracking_number_changes_nothing():
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 5)
    order = place([(sku, 2)])
    fid = order.fulfilments.get().pk
    fulfilment_ship(fulfilment_id=fid, carrier="DHL", tracking_number="T1")
    fulfilment_ship(fulfilment_id=fid, carrier="DHL", tracking_number="T1")
    assert StockMovement.objects.filter(kind="shipment").count() == 1
    with pytest.raises(ConflictError):
        fulfilment_ship(fulfilment_id=fid, carrier="DHL", tracking_number="OTHER")


def test_one_of_two_fulfilments_shipped_makes_the_order_partially_shipped():
    a, b = product("A"), product("B")
    stocked(a, warehouse("DC-1"), 5)
    stocked(b, warehouse("DC-2", lat=45.76, lon=4.84), 5)
    order = place([(a, 1), (b, 1)])
    first = order.fulfilments.get(location__code="DC-1")
    fulfilment_ship(fulfilment_id=first.pk, carrier="DHL", tracking_number="T1")
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED


def test_a_rejected_fulfilment_is_sourced_again_elsewhere():
    # given: the cheap warehouse has it, the dearer one too
    sku = product("X")
    cheap = warehouse("DC-CHEAP", shipment_cost="1.00")
    dear = warehouse("DC-DEAR", shipment_cost="9.00")
    stocked(sku, cheap, 5)
    stocked(sku, dear, 5)
    order = place([(sku, 2)])
    rejected = order.fulfilments.get()
    assert rejected.location == cheap
    # when
    fulfilment_reject(fulfilment_id=rejected.pk, reason="no staff today", reason_code="no_capacity")
    # then
    rejected.refresh_from_db()
    assert rejected.status == Fulfilment.Status.REJECTED
    assert (_stock(sku, cheap).allocated, _stock(sku, dear).allocated) == (0, 2)
    assert _stock(sku, cheap).on_hand == 5  # no capacity says nothing about the shelf
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert order.fulfilments.get(status="requested").location == dear
    assert order.events.filter(kind="fulfilment_rejected").exists()
    assert stock_drift() == []


@pytest.mark.parametrize(
    ("code", "kind"), [(RejectReason.OUT_OF_STOCK, "adjustment"), (RejectReason.DAMAGED, "damage")]
)
def test_a_rejection_for_missing_or_damaged_units_corrects_the_shelf(code, kind):
    sku = product("X")
    dc = warehouse("DC-1")
    stocked(sku, dc, 5)
    order = place([(sku, 2)])
    fulfilment_reject(fulfilment_id=order.fulfilments.get().pk, reason="shelf", reason_code=code)
    movement = StockMovement.objects.get(kind=kind)
    assert movement.quantity == -2
    assert _stock(sku, dc).on_hand == 3
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED  # the only location is excluded now
    assert stock_drift() == []


@override_settings(OMS_MAX_SOURCING_ATTEMPTS=2)
def test_after_too_many_rejections_the_order_goes_to_customer_service():
    # given: three locations, each rejecting in turn
    sku = product("X")
    for i, cost in enumerate(["1.00", "2.00", "3.00"]):
        stocked(sku, warehouse(f"DC-{i}", shipment_cost=cost), 5)
    order = place([(sku, 1)])
    # when
    for _ in range(2):
        fid = order.fulfilments.get(status="requested").pk
        fulfilment_reject(fulfilment_id=fid, reason="no", reason_code="no_capacity")
    # then
    order.refresh_from_db()
    assert order.needs_attention is True
    assert order.status == Order.Status.BACKORDERED
    assert not order.fulfilments.filter(status="requested").exists()
    # customer service sources it again by hand
    order_resource(order=order)
    order.refresh_from_db()
    assert (order.needs_attention, order.status) == (False, Order.Status.ALLOCATED)
    assert order.fulfilments.get(status="requested").location.code == "DC-2"


def test_a_backorder_is_allocated_when_stock_arrives_oldest_first():
    # given
    sku = product("X")
    dc = warehouse("DC-1")
    first = place([(sku, 2)], email="first@example.com")
    second = place([(sku, 2)], email="second@example.com")
    assert first.status == second.status == Order.Status.BACKORDERED
    stock_receive(product=sku, location=dc, quantity=3)
    # when
    helped = backorders_allocate(product_ids=[sku.pk])
    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert helped == 2
    assert first.status == Order.Status.ALLOCATED
    assert second.status == Order.Status.PARTIALLY_ALLOCATED
    assert _stock(sku, dc).allocated == 3


def test_a_line_cancel_gives_back_only_what_it_must():
    # given: 5 wanted, 3 allocated, 2 waiting
    sku = product("X")
    dc = warehouse("DC-1")
    stocked(sku, dc, 3)
    order = place([(sku, 5)])
    # when: cancelling 3 units drops the 2 waiting ones first, then 1 allocated
    order_line_cancel(order=order, line_no=1, quantity=3)
    # then
    assert _stock(sku, dc).allocated == 2
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert order.lines.get().quantity_cancelled == 3
    assert stock_drift() == []


def test_cancelling_every_line_cancels_the_order():
    sku = product("X")
    dc = warehouse("DC-1")
    stocked(sku, dc, 3)
    order = place([(sku, 2)])
    order_line_cancel(order=order, line_no=1)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.fulfilments.get().status == Fulfilment.Status.CANCELLED
    assert _stock(sku, dc).allocated == 0


def test_click_and_collect_ready_then_collected():
    # given
    sku = product("X")
    store = StoreFactory(code="ST-1")
    stocked(sku, store, 3)
    order = place([(sku, 1)], delivery_method="click_and_collect", pickup_location=store)
    fid = order.fulfilments.get().pk
    # when
    fulfilment_ready(fulfilment_id=fid)
    order.refresh_from_db()
    assert order.status == Order.Status.READY_FOR_PICKUP
    fulfilment_collect(fulfilment_id=fid)
    # then
    order.refresh_from_db()
    assert order.status == Order.Status.COLLECTED
    stock = _stock(sku, store)
    assert (stock.on_hand, stock.allocated) == (2, 0)
    assert stock_drift() == []


def test_ready_for_pickup_is_refused_for_a_shipped_order():
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 3)
    order = place([(sku, 1)])
    with pytest.raises(ConflictError):
        fulfilment_ready(fulfilment_id=order.fulfilments.get().pk)


def test_a_refused_fulfilment_transition_raises_and_changes_nothing():
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 3)
    order = place([(sku, 1)])
    fid = order.fulfilments.get().pk
    fulfilment_ship(fulfilment_id=fid, carrier="DHL", tracking_number="T1")
    with pytest.raises(InvalidTransition):
        fulfilment_accept(fulfilment_id=fid)
    with pytest.raises(InvalidTransition):
        fulfilment_reject(fulfilment_id=fid, reason="late")
    assert Fulfilment.objects.get().status == Fulfilment.Status.SHIPPED


def test_a_click_and_collect_order_is_not_shipped_but_handed_over():
    sku = product("X")
    store = StoreFactory(code="ST-1")
    stocked(sku, store, 3)
    order = place([(sku, 1)], delivery_method="click_and_collect", pickup_location=store)
    with pytest.raises(ConflictError):
        fulfilment_ship(fulfilment_id=order.fulfilments.get().pk, carrier="C", tracking_number="T")
    assert not StockMovement.objects.filter(kind="shipment").exists()


def test_an_unknown_fulfilment_or_line_is_not_found():
    sku = product("X")
    stocked(sku, warehouse("DC-1"), 3)
    order = place([(sku, 1)])
    with pytest.raises(NotFoundError):
        fulfilment_accept(fulfilment_id=987654)
    with pytest.raises(NotFoundError):
        order_line_cancel(order=order, line_no=9)
