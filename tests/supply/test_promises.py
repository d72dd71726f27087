"""Orders the shelves cannot fill are promised against open purchase orders: dated from
the purchase order, never promising an incoming unit twice, served first on receipt."""

from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django.urls import reverse

from alerts.models import Alert
from alerts.services import alerts_evaluate_orders
from orders.models import CarrierService, Order, TransitBand
from outbox.models import OutboxEvent
from supply.models import PurchasePromise
from supply.services.purchase_orders import (
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_receive,
)
from tests.orders.helpers import place, product, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def dc():
    return warehouse("DC-PARIS", lat=48.85, lon=2.35)


@pytest.fixture
def shirt():
    return product("SHIRT")


@pytest.fixture(autouse=True)
def standard():
    service = CarrierService.objects.create(code="colissimo", name="Colissimo", method="standard")
    TransitBand.objects.create(service=service, max_km=800, days=2)
    return service


def _purchase(dc, shirt, *, units: int, days: int = 10, number: str = "PO-1"):
    purchase_order, _ = purchase_order_create(
        number=number,
        supplier="Acme",
        location=dc,
        expected_on=date.today() + timedelta(days=days),
        lines=[(shirt, units)],
    )
    return purchase_order


def _promised(order) -> int:
    return (
        PurchasePromise.objects.filter(order_line__order=order, status="open").aggregate(
            units=Sum("quantity")
        )["units"]
        or 0
    )


def test_an_order_the_shelves_cannot_fill_is_promised_from_a_purchase_order(api, dc, shirt):
    # given: nothing on the shelves, 5 shirts coming in ten days
    purchase_order = _purchase(dc, shirt, units=5)
    # when
    order = place([(shirt, 3)])
    # then: backordered, dated after the purchase order arrives
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    assert _promised(order) == 3
    # one day's processing at the warehouse, then two in transit
    assert order.promised_date is not None
    assert order.promised_date >= purchase_order.expected_on + timedelta(days=3)
    answer = api.get(reverse("order-detail", kwargs={"number": order.number})).json()
    assert answer["promised_date"] == order.promised_date.isoformat()
    assert order.events.filter(message__contains="promised from incoming supply").exists()


def test_no_incoming_unit_is_promised_twice(dc, shirt):
    # given
    _purchase(dc, shirt, units=5)
    first = place([(shirt, 3)], email="a@example.com")
    # when: the next order wants more than is left unpromised
    second = place([(shirt, 3)], email="b@example.com")
    third = place([(shirt, 2)], email="c@example.com")
    # then: two units were left for the second, none for the third
    second.refresh_from_db()
    third.refresh_from_db()
    assert (_promised(first), _promised(second), _promised(third)) == (3, 2, 0)
    assert second.promised_date is None  # a unit neither the shelves nor supply can serve
    assert third.promised_date is None


def test_a_cancelled_order_lets_its_promised_units_go(api, dc, shirt):
    # given
    _purchase(dc, shirt, units=3)
    first = place([(shirt, 3)], email="a@example.com")
    # when
    assert api.post(reverse("order-cancel", kwargs={"number": first.number})).status_code == 200
    second = place([(shirt, 3)], email="b@example.com")
    # then
    assert _promised(second) == 3


def test_a_receipt_goes_to_the_promised_orders_first_oldest_first(
    dc, shirt, django_capture_on_commit_callbacks
):
    # given: two promised orders, then an order that waits without a promise
    purchase_order = _purchase(dc, shirt, units=4)
    first = place([(shirt, 2)], email="a@example.com")
    second = place([(shirt, 2)], email="b@example.com")
    unpromised = place([(shirt, 1)], email="c@example.com")
    assert _promised(unpromised) == 0
    # when: three units arrive
    with django_capture_on_commit_callbacks(execute=True):
        purchase_order_receive(purchase_order_id=purchase_order.pk, received={shirt: 3})
    # then: the first promised order is served in full, the second in part, the unpromised
    # one waits
    for order in (first, second, unpromised):
        order.refresh_from_db()
    assert first.status == Order.Status.ALLOCATED
    assert second.status == Order.Status.PARTIALLY_ALLOCATED
    assert unpromised.status == Order.Status.BACKORDERED


def test_a_purchase_order_moved_later_moves_its_orders_dates_and_tells_them(api, dc, shirt):
    # given
    purchase_order = _purchase(dc, shirt, units=5)
    order = place([(shirt, 2)])
    order.refresh_from_db()
    before = order.promised_date
    later = purchase_order.expected_on + timedelta(days=14)
    # when
    response = api.patch(
        reverse("purchase-order-detail", kwargs={"po_number": "PO-1"}),
        {"expected_on": later.isoformat()},
        format="json",
    )
    # then
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.promised_date >= before + timedelta(days=14)
    note = order.events.get(data__has_key="promise_changed")
    assert note.data["promise_changed"]["to"] == order.promised_date.isoformat()
    event = OutboxEvent.objects.get(event="order.promise_changed")
    assert event.data["number"] == order.number
    assert event.data["promised_date"] == order.promised_date.isoformat()


def _late_alerts(order):
    return list(Alert.objects.filter(kind=Alert.Kind.LATE_ORDER, order=order))


def _move(api, days: int):
    when = (date.today() + timedelta(days=days)).isoformat()
    response = api.patch(
        reverse("purchase-order-detail", kwargs={"po_number": "PO-1"}),
        {"expected_on": when},
        format="json",
    )
    assert response.status_code == 200


def test_a_purchase_order_moved_past_the_promise_raises_a_late_order_alert_until_moved_back(
    api, dc, shirt
):
    # given: an order promised from a purchase order due in ten days
    _purchase(dc, shirt, units=5)
    order = place([(shirt, 2)])
    order.refresh_from_db()
    told = order.promised_to_customer
    assert told == order.promised_date
    alerts_evaluate_orders()
    assert _late_alerts(order) == []  # waiting, but in time for what the customer was told
    # when: the supplier is two weeks later
    _move(api, 24)
    alerts_evaluate_orders()
    # then: the order is late against its promise
    order.refresh_from_db()
    (alert,) = _late_alerts(order)
    assert alert.status == "open"
    assert alert.details["promised_to_customer"] == told.isoformat()
    assert alert.details["promised_date"] == order.promised_date.isoformat()
    assert order.promised_date > told
    # when: the supplier comes back to the first date
    _move(api, 10)
    alerts_evaluate_orders()
    # then: the promise is kept again
    alert.refresh_from_db()
    order.refresh_from_db()
    assert order.promised_date == told
    assert alert.status == "resolved"


def test_the_late_order_alert_of_a_moved_purchase_order_resolves_when_the_units_arrive(
    api, dc, shirt, django_capture_on_commit_callbacks
):
    # given: the promise broken by a purchase order moved later
    purchase_order = _purchase(dc, shirt, units=5)
    order = place([(shirt, 2)])
    _move(api, 24)
    alerts_evaluate_orders()
    (alert,) = _late_alerts(order)
    # when: the units arrive after all
    with django_capture_on_commit_callbacks(execute=True):
        purchase_order_receive(purchase_order_id=purchase_order.pk, received={shirt: 5})
    alerts_evaluate_orders()
    # then
    order.refresh_from_db()
    alert.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert alert.status == "resolved"


def test_a_cancelled_purchase_order_hands_its_orders_to_other_supply_and_dates_them_again(
    dc, shirt
):
    # given: 3 shirts promised from PO-1 (in 10 days); PO-2 brings 10 more in 20 days
    first = _purchase(dc, shirt, units=5)
    _purchase(dc, shirt, units=10, days=20, number="PO-2")
    order = place([(shirt, 3)])
    order.refresh_from_db()
    before = order.promised_date
    # when: PO-1 is cancelled
    purchase_order_cancel(purchase_order_id=first.pk)
    # then: the order is promised PO-2's units, dated later, and told
    order.refresh_from_db()
    assert _promised(order) == 3
    assert set(
        PurchasePromise.objects.filter(order_line__order=order, status="open").values_list(
            "purchase_order_line__purchase_order__number", flat=True
        )
    ) == {"PO-2"}
    assert order.promised_date > before + timedelta(days=7)
    moved = order.events.get(data__has_key="promise_changed")
    assert moved.data["promise_changed"]["to"] == order.promised_date.isoformat()
    assert OutboxEvent.objects.filter(event="order.promise_changed").count() == 1
    assert PurchasePromise.objects.filter(status="released").count() == 1


def test_a_cancelled_purchase_order_with_no_other_supply_leaves_its_orders_undated(dc, shirt):
    # given: 3 shirts promised from the only purchase order
    purchase_order = _purchase(dc, shirt, units=5)
    order = place([(shirt, 3)])
    # when
    purchase_order_cancel(purchase_order_id=purchase_order.pk)
    # then: no date can be told any more; the order says so and still waits
    order.refresh_from_db()
    assert (_promised(order), order.promised_date) == (0, None)
    assert order.status == Order.Status.BACKORDERED
    moved = order.events.get(data__has_key="promise_changed")
    assert moved.data["promise_changed"]["to"] is None
    assert "not known any more" in moved.message
