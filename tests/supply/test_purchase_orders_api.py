"""POST/GET/PATCH /api/v1/purchase-orders/ and its receive and cancel: incoming, the ledger,
idempotency by number (docs/api.md "Inbound supply: purchase orders")."""

import pytest
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from supply.models import PurchaseOrder
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

PURCHASE_ORDERS = reverse("purchase-orders")


@pytest.fixture
def dc():
    return LocationFactory(code="DC-PARIS")


@pytest.fixture
def products():
    return ProductFactory(sku="SHIRT"), ProductFactory(sku="MUG")


def _url(name: str, number: str) -> str:
    return reverse(name, kwargs={"po_number": number})


def _body(**changes) -> dict:
    body = {
        "number": "PO-1",
        "supplier": "Acme",
        "location": "DC-PARIS",
        "expected_on": "2030-05-04",
        "lines": [{"sku": "SHIRT", "quantity": 10}, {"sku": "MUG", "quantity": 4}],
    }
    return {**body, **changes}


def _row(sku: str) -> StockLevel:
    return StockLevel.objects.get(product__sku=sku, location__code="DC-PARIS")


def test_create_counts_the_units_in_incoming_and_the_same_number_answers_the_first(
    api, dc, products
):
    # when
    created = api.post(PURCHASE_ORDERS, _body(), format="json")
    again = api.post(PURCHASE_ORDERS, _body(supplier="Other", lines=[]), format="json")
    # then
    assert created.status_code == 201
    assert created.json() | {"created_at": None} == {
        "number": "PO-1",
        "supplier": "Acme",
        "location": "DC-PARIS",
        "expected_on": "2030-05-04",
        "status": "open",
        "lines": [
            {"sku": "SHIRT", "quantity": 10, "received": 0, "over_received": 0},
            {"sku": "MUG", "quantity": 4, "received": 0, "over_received": 0},
        ],
        "created_at": None,
    }
    assert again.status_code == 200
    assert again.json() == created.json()
    assert PurchaseOrder.objects.count() == 1
    assert (_row("SHIRT").incoming, _row("MUG").incoming, _row("SHIRT").on_hand) == (10, 4, 0)
    stock = api.get(reverse("stock"), {"sku": "SHIRT"}).json()["results"]
    assert stock[0]["incoming"] == 10
    assert stock_drift() == []


def test_create_refuses_bad_input_naming_the_field(api, dc, products):
    cases = [
        (_body(location="NOWHERE"), "location"),
        (_body(expected_on="04/05/2030"), "expected_on"),
        (_body(lines=[{"sku": "NOPE", "quantity": 1}]), "lines[0].sku"),
        (
            _body(lines=[{"sku": "SHIRT", "quantity": 1}, {"sku": "SHIRT", "quantity": 1}]),
            "lines[1].sku",
        ),
        (_body(lines=[]), "lines"),
        (_body(number=""), "number"),
    ]
    for body, field in cases:
        response = api.post(PURCHASE_ORDERS, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["errors"], (field, response.json())
    assert PurchaseOrder.objects.count() == 0


def test_patch_moves_the_expected_date(api, dc, products):
    # given
    api.post(PURCHASE_ORDERS, _body(), format="json")
    # when
    response = api.patch(
        _url("purchase-order-detail", "PO-1"), {"expected_on": "2030-06-01"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert response.json()["expected_on"] == "2030-06-01"
    assert PurchaseOrder.objects.get().expected_on.isoformat() == "2030-06-01"
    bad = api.patch(_url("purchase-order-detail", "PO-1"), {"expected_on": "soon"}, format="json")
    assert bad.status_code == 400 and "expected_on" in bad.json()["errors"]


def test_receive_puts_units_on_hand_through_the_ledger_and_flags_over_receipt(api, dc, products):
    # given
    api.post(PURCHASE_ORDERS, _body(), format="json")
    receive = _url("purchase-order-receive", "PO-1")
    # when: part of the shirts
    partial = api.post(receive, {"lines": [{"sku": "SHIRT", "quantity": 6}]}, format="json")
    # then
    assert partial.status_code == 200
    assert partial.json()["status"] == "partially_received"
    assert (_row("SHIRT").on_hand, _row("SHIRT").incoming) == (6, 4)
    movement = StockMovement.objects.get(stock=_row("SHIRT"))
    assert (movement.kind, movement.quantity, movement.reference) == ("receipt", 6, "PO-1")
    # when: the rest, two shirts too many
    rest = api.post(
        receive,
        {"lines": [{"sku": "SHIRT", "quantity": 6}, {"sku": "MUG", "quantity": 4}]},
        format="json",
    )
    # then
    assert rest.status_code == 200
    body = rest.json()
    assert body["status"] == "received"
    assert body["lines"][0] == {"sku": "SHIRT", "quantity": 10, "received": 12, "over_received": 2}
    assert (_row("SHIRT").on_hand, _row("SHIRT").incoming) == (12, 0)
    assert (_row("MUG").on_hand, _row("MUG").incoming) == (4, 0)
    assert stock_drift() == []
    # and a received purchase order takes nothing more
    again = api.post(receive, {"lines": [{"sku": "MUG", "quantity": 1}]}, format="json")
    assert again.status_code == 409


def test_receive_refuses_a_sku_not_on_the_purchase_order(api, dc, products):
    # given
    ProductFactory(sku="HAT")
    api.post(PURCHASE_ORDERS, _body(), format="json")
    # when
    response = api.post(
        _url("purchase-order-receive", "PO-1"),
        {"lines": [{"sku": "SHIRT", "quantity": 1}, {"sku": "HAT", "quantity": 1}]},
        format="json",
    )
    # then: nothing received
    assert response.status_code == 400
    assert "lines[1].sku" in response.json()["errors"]
    assert _row("SHIRT").on_hand == 0
    assert not StockMovement.objects.exists()


def test_cancel_takes_what_is_still_expected_out_of_incoming(api, dc, products):
    # given
    api.post(PURCHASE_ORDERS, _body(), format="json")
    api.post(
        _url("purchase-order-receive", "PO-1"),
        {"lines": [{"sku": "SHIRT", "quantity": 3}]},
        format="json",
    )
    # when
    response = api.post(_url("purchase-order-cancel", "PO-1"))
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert (_row("SHIRT").incoming, _row("MUG").incoming, _row("SHIRT").on_hand) == (0, 0, 3)
    assert stock_drift() == []
    assert api.post(_url("purchase-order-cancel", "PO-1")).status_code == 409
    late = api.patch(
        _url("purchase-order-detail", "PO-1"), {"expected_on": "2030-06-01"}, format="json"
    )
    assert late.status_code == 409


def test_list_and_detail(api, dc, products):
    # given
    api.post(PURCHASE_ORDERS, _body(), format="json")
    api.post(PURCHASE_ORDERS, _body(number="PO-2", expected_on="2030-04-01"), format="json")
    # when
    listed = api.get(PURCHASE_ORDERS, {"location": "DC-PARIS", "status": "open"})
    # then: by expected date
    assert [row["number"] for row in listed.json()["results"]] == ["PO-2", "PO-1"]
    assert api.get(_url("purchase-order-detail", "PO-2")).json()["expected_on"] == "2030-04-01"
    assert api.get(_url("purchase-order-detail", "PO-404")).status_code == 404


def test_availability_lists_incoming_by_location_and_date(api, dc, products):
    # given: two purchase orders for shirts, one partly received, and a cancelled one
    LocationFactory(code="DC-LYON")
    api.post(PURCHASE_ORDERS, _body(), format="json")
    api.post(
        PURCHASE_ORDERS,
        _body(number="PO-2", location="DC-LYON", expected_on="2030-04-01"),
        format="json",
    )
    api.post(PURCHASE_ORDERS, _body(number="PO-3", expected_on="2030-03-01"), format="json")
    api.post(_url("purchase-order-cancel", "PO-3"))
    api.post(
        _url("purchase-order-receive", "PO-1"),
        {"lines": [{"sku": "SHIRT", "quantity": 4}]},
        format="json",
    )
    # when
    answer = api.get(reverse("availability"), {"sku": ["SHIRT", "HAT"]}).json()
    # then
    assert answer["SHIRT"]["available"] == 4
    assert answer["SHIRT"]["incoming"] == [
        {"location": "DC-LYON", "date": "2030-04-01", "quantity": 10},
        {"location": "DC-PARIS", "date": "2030-05-04", "quantity": 6},
    ]
    assert answer["HAT"]["incoming"] == []
