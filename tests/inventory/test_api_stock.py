"""GET /api/v1/stock/ and POST /api/v1/stock/movements/ (and where stock counts are wired)."""

import pytest
from django.db import connection
from django.db.models import Sum
from django.urls import resolve, reverse

from inventory.api.counts import StockCountView
from inventory.models import Product, StockLevel, StockMovement
from inventory.services import stock_receive
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

STOCK = reverse("stock")
MOVEMENTS = reverse("stock-movements")


@pytest.fixture
def shirt():
    return ProductFactory(sku="SHIRT")


@pytest.fixture
def paris():
    return LocationFactory(code="DC-PARIS")


def _stock(product, location) -> StockLevel:
    return StockLevel.objects.get(product=product, location=location)


def _ledger_total(product, location) -> int:
    return StockMovement.objects.filter(stock__product=product, stock__location=location).aggregate(
        total=Sum("quantity")
    )["total"]


def test_stock_lists_rows_with_available(api, shirt, paris):
    # given
    stock_receive(product=shirt, location=paris, quantity=10)
    StockLevel.objects.filter(product=shirt).update(allocated=2, reserved=1, safety_stock=3)
    # when
    response = api.get(STOCK)
    # then
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "sku": "SHIRT",
            "location": "DC-PARIS",
            "on_hand": 10,
            "allocated": 2,
            "reserved": 1,
            "safety_stock": 3,
            "available": 4,
            "in_transit": 0,
            "incoming": 0,
        }
    ]


def test_stock_available_is_never_below_zero(api, shirt, paris):
    # given
    stock_receive(product=shirt, location=paris, quantity=2)
    StockLevel.objects.filter(product=shirt).update(safety_stock=5)
    # when
    row = api.get(STOCK).json()["results"][0]
    # then
    assert row["available"] == 0


def test_stock_filters_by_sku_and_location(api, shirt, paris):
    # given
    other_product, lyon = ProductFactory(sku="OTHER"), LocationFactory(code="DC-LYON")
    for product in (shirt, other_product):
        for location in (paris, lyon):
            stock_receive(product=product, location=location, quantity=1)
    # when
    by_sku = api.get(STOCK, {"sku": "SHIRT"}).json()
    by_both = api.get(STOCK, {"sku": "SHIRT", "location": "DC-LYON"}).json()
    unknown = api.get(STOCK, {"sku": "NOPE"}).json()
    # then
    assert {(r["sku"], r["location"]) for r in by_sku["results"]} == {
        ("SHIRT", "DC-PARIS"),
        ("SHIRT", "DC-LYON"),
    }
    assert [(r["sku"], r["location"]) for r in by_both["results"]] == [("SHIRT", "DC-LYON")]
    assert unknown["count"] == 0


def test_stock_list_takes_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    # given
    location = LocationFactory()
    for n in range(30):
        stock_receive(product=ProductFactory(sku=f"Q{n}"), location=location, quantity=1)
    # when / then: token, count, one page with product and location joined
    with django_assert_max_num_queries(3):
        response = api.get(STOCK, {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_stock_page_size_is_capped_at_500(api):
    # given
    location = LocationFactory()
    Product.objects.bulk_create(Product(sku=f"B{n:04d}", name="b") for n in range(501))
    products = list(Product.objects.filter(sku__startswith="B"))
    StockLevel.objects.bulk_create(StockLevel(product=p, location=location) for p in products)
    # when
    body = api.get(STOCK, {"page_size": 1000}).json()
    # then
    assert body["count"] == 501
    assert len(body["results"]) == 500


def test_a_receipt_answers_201_with_the_row_after_it(api, shirt, paris):
    # given
    stock_receive(product=shirt, location=paris, quantity=5)
    # when
    response = api.post(
        MOVEMENTS,
        {
            "sku": "SHIRT",
            "location": "DC-PARIS",
            "kind": "receipt",
            "quantity": 7,
            "reference": "PO-9",
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["sku"], body["location"], body["on_hand"], body["available"]) == (
        "SHIRT",
        "DC-PARIS",
        12,
        12,
    )
    assert body["movement"]["quantity"] == 7
    assert _stock(shirt, paris).on_hand == 12
    movement = StockMovement.objects.get(reference="PO-9")
    assert (movement.kind, movement.quantity, movement.actor.username) == (
        "receipt",
        7,
        "integrator",
    )
    assert _ledger_total(shirt, paris) == 12


def test_a_receipt_at_a_new_place_creates_its_stock_row(api, shirt, paris):
    # when
    response = api.post(
        MOVEMENTS,
        {"sku": "SHIRT", "location": "DC-PARIS", "kind": "receipt", "quantity": 3},
        format="json",
    )
    # then
    assert response.status_code == 201
    assert _stock(shirt, paris).on_hand == 3


@pytest.mark.parametrize(
    "kind, quantity, on_hand_after",
    [
        ("adjustment", -4, 6),
        ("adjustment", 4, 14),
        ("damage", 2, 8),
        ("transfer_out", 3, 7),
        ("transfer_in", 3, 13),
    ],
)
def test_each_kind_moves_on_hand_with_its_sign(api, shirt, paris, kind, quantity, on_hand_after):
    # given
    stock_receive(product=shirt, location=paris, quantity=10)
    # when
    response = api.post(
        MOVEMENTS,
        {
            "sku": "SHIRT",
            "location": "DC-PARIS",
            "kind": kind,
            "quantity": quantity,
            "reason": "because",
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    assert response.json()["on_hand"] == on_hand_after
    assert _stock(shirt, paris).on_hand == on_hand_after
    assert _ledger_total(shirt, paris) == on_hand_after
    assert StockMovement.objects.filter(kind=kind, reason="because").count() == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"sku": "NOPE"}, "sku"),
        ({"sku": None}, "sku"),
        ({"location": "NOWHERE"}, "location"),
        ({"location": ["DC-PARIS"]}, "location"),
        ({"kind": "teleport"}, "kind"),
        ({"kind": "count"}, "kind"),
        ({"kind": "shipment"}, "kind"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": 2.0}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"quantity": 2**63 + 1}, "quantity"),
        ({"quantity": 11}, "quantity"),  # more than the 10 on hand leave
        ({"kind": "adjustment", "quantity": 0}, "quantity"),
        ({"kind": "adjustment", "quantity": -11}, "quantity"),
        ({"reference": "r" * 129}, "reference"),
    ],
)
def test_a_bad_movement_is_a_400_naming_its_field_and_moves_nothing(
    api, shirt, paris, overrides, field
):
    # given
    stock_receive(product=shirt, location=paris, quantity=10)
    body = {"sku": "SHIRT", "location": "DC-PARIS", "kind": "damage", "quantity": 1, **overrides}
    # when
    response = api.post(MOVEMENTS, body, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert _stock(shirt, paris).on_hand == 10
    assert StockMovement.objects.count() == 1


def test_a_missing_field_is_a_400_naming_each(api):
    # when
    response = api.post(MOVEMENTS, {}, format="json")
    # then
    assert response.status_code == 400
    assert {"sku", "location", "kind", "quantity"} <= set(response.json()["errors"])


@pytest.mark.postgres
def test_a_balance_beyond_what_the_database_stores_is_a_400(api, shirt, paris):
    # given
    stock_receive(product=shirt, location=paris, quantity=2**31 - 10)
    # when
    response = api.post(
        MOVEMENTS,
        {"sku": "SHIRT", "location": "DC-PARIS", "kind": "receipt", "quantity": 100},
        format="json",
    )
    # then: PostgreSQL's 32-bit integer refuses it (SQLite would store it)
    assert connection.vendor == "postgresql"
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]
    assert _stock(shirt, paris).on_hand == 2**31 - 10


def test_movements_without_a_token_are_a_401(anonymous_api, shirt, paris):
    # when
    response = anonymous_api.post(
        MOVEMENTS,
        {"sku": "SHIRT", "location": "DC-PARIS", "kind": "receipt", "quantity": 1},
        format="json",
    )
    # then
    assert response.status_code == 401
    assert not StockMovement.objects.exists()


def test_stock_without_a_token_is_a_401(anonymous_api):
    assert anonymous_api.get(STOCK).status_code == 401


def test_stock_counts_are_served_by_the_count_view():
    # when
    match = resolve("/api/v1/stock/counts/")
    # then
    assert match.url_name == "stock-counts"
    assert match.func.view_class is StockCountView
