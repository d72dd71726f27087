"""Customer-service actions on an order through the API: cancel, cancel a line, note, source
again."""

import pytest
from django.urls import reverse

from fulfilment.models import Fulfilment
from inventory.models import Allocation, StockLevel
from orders.models import Order, OrderEvent
from orders.services.fulfilments import fulfilment_reject, fulfilment_ship
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def url(name: str, order: Order, *args) -> str:
    return reverse(name, args=[order.number, *args])


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def paris(tee):
    paris = warehouse("DC-PARIS")
    stocked(tee, paris, 10)
    return paris


def test_cancel_releases_the_stock_and_answers_the_order(api, tee, paris):
    # given
    order = place([(tee, 3)])
    # when
    response = api.post(
        url("order-cancel", order), {"reason": "customer changed mind"}, format="json"
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["allocations"] == []
    assert body["lines"][0]["cancelled"] == 3
    assert body["events"][-1]["message"] == "Order cancelled."
    assert OrderEvent.objects.get(kind="cancelled").data == {"reason": "customer changed mind"}
    assert StockLevel.objects.get(product=tee, location=paris).allocated == 0
    assert Fulfilment.objects.get().status == "cancelled"
    assert set(Allocation.objects.values_list("status", flat=True)) == {"released"}


def test_cancelling_a_cancelled_order_answers_200_and_changes_nothing(api, tee, paris):
    # given
    order = place([(tee, 3)])
    api.post(url("order-cancel", order), format="json")
    events = OrderEvent.objects.count()
    # when
    response = api.post(url("order-cancel", order), format="json")
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert OrderEvent.objects.count() == events


def test_cancel_once_shipped_is_a_409_and_changes_nothing(api, tee, paris):
    # given
    order = place([(tee, 3)])
    fulfilment_ship(fulfilment_id=Fulfilment.objects.get().pk, carrier="UPS", tracking_number="1Z")
    # when
    response = api.post(url("order-cancel", order), format="json")
    # then
    assert response.status_code == 409
    assert "status" in response.json()["errors"]
    order.refresh_from_db()
    assert order.status == "shipped"


def test_cancel_of_an_unknown_order_is_a_404(api):
    # when
    response = api.post(reverse("order-cancel", args=["NOPE23456"]), format="json")
    # then
    assert response.status_code == 404


def test_cancel_needs_a_token(anonymous_api, tee, paris):
    # given
    order = place([(tee, 1)])
    # when
    response = anonymous_api.post(url("order-cancel", order), format="json")
    # then
    assert response.status_code == 401
    order.refresh_from_db()
    assert order.status == "allocated"


def test_cancel_with_an_idempotency_key_is_replayed(api, tee, paris):
    # given
    order = place([(tee, 1)])
    first = api.post(url("order-cancel", order), {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    # when
    again = api.post(url("order-cancel", order), {}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    # then
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_cancelling_part_of_a_line_releases_those_units(api, tee, paris):
    # given
    order = place([(tee, 5)])
    # when
    response = api.post(
        url("order-line-cancel", order, 1), {"quantity": 2, "reason": "too many"}, format="json"
    )
    # then
    assert response.status_code == 200
    line = response.json()["lines"][0]
    assert (line["quantity"], line["cancelled"], line["allocated"]) == (5, 2, 3)
    assert response.json()["status"] == "allocated"
    assert StockLevel.objects.get(product=tee, location=paris).allocated == 3


def test_cancelling_a_whole_line_without_quantity_cancels_what_is_left(api, tee, paris):
    # given
    mug = product("MUG-1")
    stocked(mug, paris, 4)
    order = place([(tee, 2), (mug, 1)])
    # when
    response = api.post(url("order-line-cancel", order, 2), format="json")
    # then
    assert response.status_code == 200
    assert [li["cancelled"] for li in response.json()["lines"]] == [0, 1]
    assert StockLevel.objects.get(product=mug, location=paris).allocated == 0


@pytest.mark.parametrize("line", [0, 3, 99999, 10**20])
def test_cancelling_a_line_that_does_not_exist_is_a_404(api, tee, paris, line):
    # given
    order = place([(tee, 2)])
    # when
    response = api.post(f"/api/v1/orders/{order.number}/lines/{line}/cancel/", format="json")
    # then
    assert response.status_code == 404


@pytest.mark.parametrize("quantity", [0, -1, "1", 1.5])
def test_a_bad_line_cancel_quantity_is_a_400_on_quantity(api, tee, paris, quantity):
    # given
    order = place([(tee, 2)])
    # when
    response = api.post(url("order-line-cancel", order, 1), {"quantity": quantity}, format="json")
    # then
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]
    assert StockLevel.objects.get(product=tee, location=paris).allocated == 2


def test_cancelling_more_units_than_the_line_has_left_is_a_400(api, tee, paris):
    # given
    order = place([(tee, 2)])
    # when
    response = api.post(url("order-line-cancel", order, 1), {"quantity": 3}, format="json")
    # then
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]
    assert StockLevel.objects.get(product=tee, location=paris).allocated == 2


def test_a_note_is_added_to_the_timeline_as_internal(api, tee, paris, user):
    # given
    order = place([(tee, 1)])
    # when
    response = api.post(url("order-notes", order), {"text": "Gift wrap, please."}, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["events"][-1] == {
        **response.json()["events"][-1],
        "kind": "note",
        "message": "Gift wrap, please.",
        "public": False,
        "actor": "integrator",
    }
    note = OrderEvent.objects.get(kind="note")
    assert (note.public, note.actor) == (False, user)


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": None}, {"text": "x" * 4001}])
def test_a_note_without_text_is_a_400_on_text(api, tee, paris, body):
    # given
    order = place([(tee, 1)])
    # when
    response = api.post(url("order-notes", order), body, format="json")
    # then
    assert response.status_code == 400
    assert "text" in response.json()["errors"]
    assert not OrderEvent.objects.filter(kind="note").exists()


def test_resource_allocates_a_backorder_once_stock_is_there(api, tee):
    # given: ordered before any stock
    order = place([(tee, 2)])
    assert order.status == "backordered"
    stocked(tee, warehouse("DC-LYON", lat=45.76, lon=4.84), 5)
    # when
    response = api.post(url("order-resource", order))
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "allocated"
    assert [a["location"] for a in response.json()["allocations"]] == ["DC-LYON"]


def test_resource_takes_an_order_out_of_the_customer_service_queue(api, tee, paris, settings):
    # given: the only location rejected it, and sourcing gave up
    settings.OMS_MAX_SOURCING_ATTEMPTS = 1
    order = place([(tee, 2)])
    fulfilment_reject(fulfilment_id=Fulfilment.objects.get().pk, reason="no staff")
    order.refresh_from_db()
    assert order.needs_attention
    # when
    response = api.post(url("order-resource", order))
    # then
    assert response.status_code == 200
    assert response.json()["needs_attention"] is False
    order.refresh_from_db()
    assert not order.needs_attention


def test_resource_of_a_cancelled_order_is_a_409(api, tee, paris):
    # given
    order = place([(tee, 1)])
    api.post(url("order-cancel", order))
    # when
    response = api.post(url("order-resource", order))
    # then
    assert response.status_code == 409
