"""The big changelists stay cheap: state filters read from partial indexes, row checkboxes
drawn without a widget template, and the same rows and markup as before."""

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from inventory.models import StockLevel
from tests.factories import LocationFactory, ProductFactory, StockLevelFactory

pytestmark = pytest.mark.django_db

STOCK_LIST = reverse("admin:inventory_stocklevel_changelist")


@pytest.fixture
def rows():
    """Stock rows on each side of "nothing available" and of "below safety stock"."""
    place = LocationFactory(code="WH1")

    def row(sku, **balances):
        return StockLevelFactory(product=ProductFactory(sku=sku), location=place, **balances)

    return {
        # on hand 5, allocated 2, reserved 1, safety 2: nothing left to sell, at safety stock
        "at-safety": row("AT-SAFETY", on_hand=5, allocated=2, reserved=1, safety_stock=2),
        # one unit over the safety stock: sellable
        "above-safety": row("ABOVE-SAFETY", on_hand=6, allocated=2, reserved=1, safety_stock=2),
        # all promised, no safety stock: nothing to sell, yet not "below safety stock"
        "all-promised": row("ALL-PROMISED", on_hand=3, allocated=3),
        "empty": row("EMPTY", on_hand=0),
        "plenty": row("PLENTY", on_hand=40, allocated=1),
    }


def listed(client, **params) -> set[str]:
    response = client.get(STOCK_LIST, params)
    assert response.status_code == 200
    return {stock.product.sku for stock in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("unavailable", {"AT-SAFETY", "ALL-PROMISED", "EMPTY"}),
        ("below_safety", {"AT-SAFETY"}),
        ("available", {"ABOVE-SAFETY", "PLENTY"}),
        ("out", {"EMPTY"}),
    ],
)
def test_each_stock_state_filter_lists_exactly_its_rows(admin_client_logged, rows, state, expected):
    # when
    shown = listed(admin_client_logged, state=state)
    # then
    assert shown == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("state", "index"),
    [("unavailable", "stock_unavailable"), ("below_safety", "stock_below_safety")],
)
def test_a_stock_state_filter_is_read_from_its_partial_index(
    admin_client_logged, rows, state, index
):
    # given: a changelist's query, filtered by state
    response = admin_client_logged.get(STOCK_LIST, {"state": state})
    queryset = response.context["cl"].queryset
    # when: PostgreSQL may not read the whole table (a small one would be read whole)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    plan = queryset.explain()
    # then: the filter's condition implies the index's, so the index answers it
    assert index in plan


def test_the_row_checkbox_is_djangos_markup(rows):
    # given
    stock = StockLevel.objects.get(product__sku="EMPTY")
    ours = admin.site._registry[StockLevel]
    djangos = admin.ModelAdmin(StockLevel, admin.site)
    # when / then: the admin's actions script finds the same input
    assert ours.action_checkbox(stock) == djangos.action_checkbox(stock)


def test_a_network_of_locations_is_filtered_from_one_drop_down_keeping_the_other_filters(
    admin_client_logged, rows
):
    # given: more locations than links are drawn for
    wh2 = LocationFactory(code="WH2")
    LocationFactory.create_batch(12)
    StockLevelFactory(product=ProductFactory(sku="AT-WH2"), location=wh2)
    # when
    response = admin_client_logged.get(
        STOCK_LIST, {"state": "unavailable", "location__id__exact": wh2.pk}
    )
    # then: one select, the chosen location selected, the state kept for the next choice
    body = response.content.decode()
    assert '<select name="location__id__exact"' in body
    assert f'<option value="{wh2.pk}" selected>' in body
    assert '<input type="hidden" name="state" value="unavailable">' in body
    assert {stock.product.sku for stock in response.context["cl"].result_list} == {"AT-WH2"}


def test_a_few_locations_are_filtered_by_links(admin_client_logged, rows):
    # given: two locations
    LocationFactory(code="WH2")
    # when
    response = admin_client_logged.get(STOCK_LIST)
    # then
    body = response.content.decode()
    place = StockLevel.objects.get(product__sku="EMPTY").location
    assert f"?location__id__exact={place.pk}" in body
    assert '<select name="location__id__exact"' not in body
