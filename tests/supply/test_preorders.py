"""Pre-order products: sold against incoming purchase orders only, never from the shelves,
and never more than their cap promised in total."""

from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django.urls import reverse

from inventory.models import Product, StockLevel
from orders.models import CarrierService, Order, TransitBand
from orders.services.lifecycle import backorders_allocate, order_line_cancel
from supply.models import PurchasePromise
from supply.promises import preorder_promised_total
from supply.services.purchase_orders import (
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_reschedule,
)
from tests.orders.helpers import PARIS, place, product, stocked, warehouse

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"


@pytest.fixture
def dc():
    return warehouse("DC-PARIS", lat=48.85, lon=2.35, processing_days=1)


@pytest.fixture(autouse=True)
def standard():
    service = CarrierService.objects.create(code="colissimo", name="Colissimo", method="standard")
    TransitBand.objects.create(service=service, max_km=800, days=2)
    return service


@pytest.fixture
def console(dc):
    """A pre-order console with a cap of 4, and 3 consoles on the shelf at DC-PARIS."""
    item = product("CONSOLE")
    stocked(item, dc, 3)
    Product.objects.filter(pk=item.pk).update(preorder=True, preorder_cap=4)
    item.refresh_from_db()
    return item


def _purchase(location, item, *, units: int, days: int = 10, number: str = "PO-1"):
    purchase_order, _ = purchase_order_create(
        number=number,
        supplier="Acme",
        location=location,
        expected_on=date.today() + timedelta(days=days),
        lines=[(item, units)],
    )
    return purchase_order


def _promised(order) -> int:
    return (
        PurchasePromise.objects.filter(order_line__order=order)
        .exclude(status="released")
        .aggregate(units=Sum("quantity"))["units"]
        or 0
    )


def _body(sku: str, quantity: int, external_id: str) -> dict:
    return {
        "channel": "web",
        "external_id": external_id,
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": PARIS[0],
            "lon": PARIS[1],
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "499.00"}],
    }


def test_a_preorder_is_promised_from_incoming_supply_and_never_from_the_shelf(api, dc, console):
    # given: 3 on the shelf, 10 coming in ten days
    purchase_order = _purchase(dc, console, units=10)
    # when
    response = api.post(ORDERS, _body("CONSOLE", 2, "W-1"), format="json")
    # then: backordered against the purchase order; the shelf is untouched
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["status"] == "backordered"
    assert answer["allocations"] == []
    # at least one day's processing at the warehouse, then two days in transit
    order = Order.objects.get(number=answer["number"])
    assert order.promised_date >= purchase_order.expected_on + timedelta(days=3)
    assert answer["promised_date"] == order.promised_date.isoformat()
    assert _promised(order) == 2
    assert StockLevel.objects.get(product=console, location=dc).allocated == 0


def test_no_more_than_the_cap_is_promised_and_the_rest_waits_without_a_date(api, dc, console):
    # given: a cap of 4, 10 coming
    _purchase(dc, console, units=10)
    first = place([(console, 3)], email="a@example.com")
    # when: the next order wants 3, only 1 is left under the cap
    response = api.post(ORDERS, _body("CONSOLE", 3, "W-2"), format="json")
    # then: the contract's answer for units nothing can serve: backordered, no date
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "backordered"
    assert response.json()["promised_date"] is None
    second = Order.objects.get(number=response.json()["number"])
    assert (_promised(first), _promised(second)) == (3, 1)
    note = second.events.get(data__has_key="preorder_unpromised")
    assert note.data["preorder_unpromised"] == {"line": 1, "units": 2}
    assert "2 × CONSOLE could not be promised" in note.message
    assert preorder_promised_total([console.pk]) == {console.pk: 4}


def test_a_cancelled_preorder_gives_its_share_of_the_cap_back(api, dc, console):
    # given: the cap is used up
    _purchase(dc, console, units=10)
    first = place([(console, 4)], email="a@example.com")
    # when
    assert api.post(reverse("order-cancel", kwargs={"number": first.number})).status_code == 200
    second = place([(console, 4)], email="b@example.com")
    # then
    assert _promised(second) == 4
    assert preorder_promised_total([console.pk]) == {console.pk: 4}


def test_incoming_supply_bounds_a_preorder_under_its_cap(dc, console):
    # given: a cap of 4 but only 2 coming
    _purchase(dc, console, units=2)
    # when
    order = place([(console, 3)])
    # then
    order.refresh_from_db()
    assert _promised(order) == 2
    assert order.promised_date is None


def test_the_backorder_sweep_leaves_a_preorder_to_its_supply_and_the_receipt_serves_it(
    dc, console, django_capture_on_commit_callbacks
):
    # given: a promised pre-order, an unpromised one, and shelf stock the sweep could take
    purchase_order = _purchase(dc, console, units=2)
    promised = place([(console, 2)], email="a@example.com")
    unpromised = place([(console, 1)], email="b@example.com")
    # when: the sweep runs
    backorders_allocate(product_ids=[console.pk])
    # then: nothing was taken from the shelf
    assert StockLevel.objects.get(product=console, location=dc).allocated == 0
    # when: the purchase order arrives
    with django_capture_on_commit_callbacks(execute=True):
        purchase_order_receive(purchase_order_id=purchase_order.pk, received={console: 2})
    # then: the promised order is served, the unpromised one still waits
    promised.refresh_from_db()
    unpromised.refresh_from_db()
    assert promised.status == Order.Status.ALLOCATED
    assert unpromised.status == Order.Status.BACKORDERED
    # and a received promise still counts under the cap
    assert preorder_promised_total([console.pk]) == {console.pk: 2}


def test_a_product_no_longer_on_preorder_sells_from_the_shelf(dc, console):
    # given
    Product.objects.filter(pk=console.pk).update(preorder=False)
    console.refresh_from_db()
    # when
    order = place([(console, 2)])
    # then
    assert order.status == Order.Status.ALLOCATED


def test_a_basket_mixing_a_preorder_and_a_stocked_item_allocates_the_item(dc, console):
    # given
    cable = product("CABLE")
    stocked(cable, dc, 5)
    _purchase(dc, console, units=10)
    # when
    order = place([(cable, 1), (console, 1)])
    # then
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_ALLOCATED
    assert StockLevel.objects.get(product=cable, location=dc).allocated == 1
    assert StockLevel.objects.get(product=console, location=dc).allocated == 0
    assert _promised(order) == 1


def test_the_product_api_sets_and_shows_the_preorder_and_its_cap(api):
    # when
    created = api.post(
        "/api/v1/products/",
        {"sku": "GAME", "name": "Game", "preorder": True, "preorder_cap": 500},
        format="json",
    )
    changed = api.patch("/api/v1/products/GAME/", {"preorder_cap": 800}, format="json")
    refused = api.patch("/api/v1/products/GAME/", {"preorder_cap": -1}, format="json")
    # then
    assert created.status_code == 201, created.content
    assert (created.json()["preorder"], created.json()["preorder_cap"]) == (True, 500)
    assert changed.status_code == 200, changed.content
    assert changed.json()["preorder_cap"] == 800
    assert refused.status_code == 400
    assert "preorder_cap" in refused.json()["errors"]
    assert Product.objects.get(sku="GAME").preorder_cap == 800


def test_the_stock_page_shows_the_cap_and_what_is_promised(admin_client_logged, dc, console):
    # given
    _purchase(dc, console, units=10)
    place([(console, 3)])
    # when
    response = admin_client_logged.get(reverse("console:product-stock", args=["CONSOLE"]))
    # then
    assert response.status_code == 200
    assert response.context["preorder"] == {"cap": 4, "promised": 3, "left": 1}
    assert "3 of a cap of 4 units promised; 1 left to sell" in response.content.decode()


def test_the_admin_lists_and_filters_preorder_products(admin_client_logged, console):
    # given
    product("PLAIN")
    # when
    response = admin_client_logged.get(
        reverse("admin:inventory_product_changelist") + "?preorder__exact=1"
    )
    # then
    assert response.status_code == 200
    assert [p.sku for p in response.context["cl"].result_list] == ["CONSOLE"]


def test_cancelling_units_of_a_preorder_line_gives_their_share_of_the_cap_back(api, dc, console):
    # given: the cap of 4 is used up by one order
    _purchase(dc, console, units=10)
    first = place([(console, 4)], email="a@example.com")
    # when: 3 of its units are cancelled
    cancelled = api.post(
        reverse("order-line-cancel", kwargs={"number": first.number, "line": 1}),
        {"quantity": 3},
        format="json",
    )
    # then: it keeps 1 promised unit, and 3 can be promised to another order
    assert cancelled.status_code == 200, cancelled.content
    assert _promised(first) == 1
    assert preorder_promised_total([console.pk]) == {console.pk: 1}
    second = place([(console, 3)], email="b@example.com")
    assert _promised(second) == 3
    second.refresh_from_db()
    assert second.promised_date is not None
    assert preorder_promised_total([console.pk]) == {console.pk: 4}


def test_cancelling_units_of_a_line_frees_the_incoming_units_it_was_promised(dc):
    # given: 5 shirts coming, all promised to one order
    shirt = product("SHIRT")
    _purchase(dc, shirt, units=5)
    first = place([(shirt, 5)], email="a@example.com")
    assert _promised(first) == 5
    # when: 2 are cancelled
    order_line_cancel(order=first, line_no=1, quantity=2)
    # then: those 2 can be promised to the next order; the first keeps 3
    second = place([(shirt, 2)], email="b@example.com")
    assert (_promised(first), _promised(second)) == (3, 2)
    assert PurchasePromise.objects.filter(status="released").count() == 0  # one shrank


def test_a_moved_purchase_order_redates_a_preorder_and_leaves_a_capped_one_undated(dc, console):
    # given: a cap of 4; one order wholly promised, one promised only in part (no date)
    purchase_order = _purchase(dc, console, units=10)
    whole = place([(console, 2)], email="a@example.com")
    part = place([(console, 3)], email="b@example.com")
    whole.refresh_from_db()
    part.refresh_from_db()
    assert (_promised(whole), _promised(part)) == (2, 2)
    assert part.promised_date is None
    before = whole.promised_date
    # when: the purchase order is expected a week later
    purchase_order_reschedule(
        purchase_order_id=purchase_order.pk,
        expected_on=purchase_order.expected_on + timedelta(days=7),
    )
    # then: the whole one moves and is told; the other keeps no date, as capture left it
    whole.refresh_from_db()
    part.refresh_from_db()
    assert whole.promised_date >= before + timedelta(days=5)
    assert whole.events.filter(data__has_key="promise_changed").exists()
    assert part.promised_date is None
    assert not part.events.filter(data__has_key="promise_changed").exists()


def test_a_cancelled_purchase_order_gives_its_preorders_share_of_the_cap_back(dc, console):
    # given: the cap of 4 used up by one order promised from PO-1
    first = _purchase(dc, console, units=10)
    waiting = place([(console, 4)], email="a@example.com")
    assert preorder_promised_total([console.pk]) == {console.pk: 4}
    # when: PO-1 is cancelled, and PO-2 opened later
    purchase_order_cancel(purchase_order_id=first.pk)
    _purchase(dc, console, units=10, number="PO-2")
    # then: the waiting order has no date; the cap no longer counts the cancelled supply
    waiting.refresh_from_db()
    assert (_promised(waiting), waiting.promised_date) == (0, None)
    assert preorder_promised_total([console.pk]) == {}
    assert _promised(place([(console, 4)], email="b@example.com")) == 4
