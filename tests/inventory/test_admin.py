"""The inventory admin: changelists, search, filters, read-only balances and ledger, actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import Location, StockCountImport, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services.ledger import stock_receive
from orders.models import Channel
from orders.services.reservations import ReservedLine, reservation_create
from tests.factories import LocationFactory, ProductFactory, StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


@pytest.fixture
def stock():
    """A at a warehouse (10) and a store (2); B at the warehouse (0 after a count-like start)."""
    a = ProductFactory(sku="A-100", name="Crème brûlée")
    b = ProductFactory(sku="B-200", name="Baguette")
    wh = LocationFactory(code="WH1", name="Warehouse")
    st = StoreFactory(code="ST1", name="Store")
    stock_receive(product=a, location=wh, quantity=10, reference="PO-1")
    stock_receive(product=a, location=st, quantity=2)
    StockLevel.objects.create(product=b, location=wh)
    return {"a": a, "b": b, "wh": wh, "st": st}


def row(sku: str, code: str) -> StockLevel:
    return StockLevel.objects.get(product__sku=sku, location__code=code)


def changelist(name: str) -> str:
    return reverse(f"admin:inventory_{name}_changelist")


def shown(response) -> list:
    return list(response.context["cl"].result_list)


# --- Changelists, search, filters -------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["product", "location", "stocklevel", "stockmovement", "stockcountimport"]
)
def test_each_changelist_renders(admin_client_logged, stock, name):
    response = admin_client_logged.get(changelist(name))
    assert response.status_code == 200


def test_changelists_are_for_staff_only(client, stock):
    response = client.get(changelist("stocklevel"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_product_search_by_sku_and_name(admin_client_logged, stock):
    by_sku = admin_client_logged.get(changelist("product"), {"q": "A-1"})
    by_name = admin_client_logged.get(changelist("product"), {"q": "baguette"})
    assert [p.sku for p in shown(by_sku)] == ["A-100"]
    assert [p.sku for p in shown(by_name)] == ["B-200"]
    assert reverse("console:product-stock", args=["A-100"]) in by_sku.content.decode()


def test_location_search_and_filter(admin_client_logged, stock):
    by_code = admin_client_logged.get(changelist("location"), {"q": "ST1"})
    stores = admin_client_logged.get(changelist("location"), {"kind__exact": "store"})
    assert [loc.code for loc in shown(by_code)] == ["ST1"]
    assert [loc.code for loc in shown(stores)] == ["ST1"]


def test_stock_search_by_sku_location_and_name(admin_client_logged, stock):
    url = changelist("stocklevel")
    by_sku = shown(admin_client_logged.get(url, {"q": "A-100"}))
    assert {(s.product.sku, s.location.code) for s in by_sku} == {
        ("A-100", "WH1"),
        ("A-100", "ST1"),
    }
    assert len(shown(admin_client_logged.get(url, {"q": "ST1"}))) == 1
    assert len(shown(admin_client_logged.get(url, {"q": "brûlée"}))) == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "out"}, {("B-200", "WH1")}),
        ({"state": "available"}, {("A-100", "WH1"), ("A-100", "ST1")}),
        ({"state": "unavailable"}, {("B-200", "WH1")}),
        ({"location__kind__exact": "store"}, {("A-100", "ST1")}),
    ],
)
def test_stock_filters(admin_client_logged, stock, params, expected):
    response = admin_client_logged.get(changelist("stocklevel"), params)
    assert {(s.product.sku, s.location.code) for s in shown(response)} == expected


@pytest.mark.parametrize(
    ("name", "params", "count"),
    [
        ("product", {"active__exact": "0"}, 0),
        ("product", {"active__exact": "1"}, 2),
        ("location", {"click_and_collect__exact": "1"}, 1),
        ("stockmovement", {"stock__location__id__exact": "ST1"}, 1),
        ("stockmovement", {"created_at__gte": "2000-01-01T00:00:00+00:00"}, 2),
        ("stockcountimport", {"status__exact": "applied"}, 0),
        ("stockcountimport", {"source__exact": "api"}, 0),
    ],
)
def test_each_filter_narrows_its_changelist(admin_client_logged, stock, name, params, count):
    # a location is given by its code here, by its id in the URL
    params = {
        key: str(Location.objects.get(code=value).pk) if key.endswith("__id__exact") else value
        for key, value in params.items()
    }
    response = admin_client_logged.get(changelist(name), params)
    assert response.status_code == 200
    assert len(shown(response)) == count


def test_stock_changelist_query_count_does_not_grow_with_rows(
    admin_client_logged, stock, django_assert_max_num_queries
):
    for n in range(30):
        stock_receive(product=ProductFactory(), location=stock["wh"], quantity=n + 1)
    with django_assert_max_num_queries(12):
        response = admin_client_logged.get(changelist("stocklevel"))
    assert response.status_code == 200


def test_ledger_filters_search_and_does_not_count_the_whole_table(
    admin_client_logged, stock, django_assert_max_num_queries
):
    url = changelist("stockmovement")
    receipts = admin_client_logged.get(url, {"kind__exact": "receipt"})
    by_reference = admin_client_logged.get(url, {"q": "PO-1"})
    assert len(shown(receipts)) == 2
    assert [m.reference for m in shown(by_reference)] == ["PO-1"]
    assert receipts.context["cl"].show_full_result_count is False
    with django_assert_max_num_queries(10):
        admin_client_logged.get(url)


def test_ledger_of_an_operation_is_reachable_by_url(admin_client_logged, stock):
    movement = StockMovement.objects.filter(reference="PO-1").get()
    response = admin_client_logged.get(
        changelist("stockmovement"), {"operation": str(movement.operation)}
    )
    assert [m.pk for m in shown(response)] == [movement.pk]


# --- Read-only balances and ledger ---------------------------------------------------------


def test_ledger_cannot_be_added_changed_or_deleted(admin_client_logged, stock):
    # given
    movement = StockMovement.objects.get(reference="PO-1")

    # when
    add = admin_client_logged.get(reverse("admin:inventory_stockmovement_add"))
    change = admin_client_logged.post(
        reverse("admin:inventory_stockmovement_change", args=[movement.pk]), {"quantity": 99}
    )
    delete = admin_client_logged.post(
        reverse("admin:inventory_stockmovement_delete", args=[movement.pk]), {"post": "yes"}
    )

    # then
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    movement.refresh_from_db()
    assert movement.quantity == 10
    assert StockMovement.objects.filter(pk=movement.pk).exists()


def test_balances_are_read_only_and_safety_stock_goes_through_its_service(
    admin_client_logged, stock
):
    # given
    target = row("A-100", "WH1")
    url = reverse("admin:inventory_stocklevel_change", args=[target.pk])
    assert admin_client_logged.get(url).status_code == 200

    # when: a crafted POST tries to set on hand along with safety stock
    response = admin_client_logged.post(
        url, {"safety_stock": 3, "on_hand": 999, "allocated": 5, "reserved": 5}
    )

    # then
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.on_hand, target.allocated, target.reserved, target.safety_stock) == (
        10,
        0,
        0,
        3,
    )
    assert admin_client_logged.get(reverse("admin:inventory_stocklevel_add")).status_code == 403


def test_the_bin_of_a_stock_row_is_set_in_the_admin_for_pick_lists(admin_client_logged, stock):
    # given
    target = row("A-100", "WH1")
    url = reverse("admin:inventory_stocklevel_change", args=[target.pk])
    # when
    response = admin_client_logged.post(url, {"safety_stock": 0, "bin": " C-07-2 "})
    # then
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.bin, target.on_hand) == ("C-07-2", 10)


# --- Actions -----------------------------------------------------------------------------


def run_action(client, action: str, rows: list[StockLevel], **values):
    data = {"action": action, "_selected_action": [r.pk for r in rows]}
    if values:
        data.update(values, apply="1")
    return client.post(changelist("stocklevel"), data, follow=bool(values))


def test_receive_action_asks_then_receives(admin_client_logged, stock, staff_user):
    # given
    target = row("A-100", "ST1")

    # when: the action first shows a form
    page = run_action(admin_client_logged, "receive_units", [target])
    done = run_action(admin_client_logged, "receive_units", [target], quantity=5, reference="DN-9")

    # then
    assert page.status_code == 200 and "quantity" in page.context["form"].fields
    assert done.status_code == 200
    target.refresh_from_db()
    assert target.on_hand == 7
    receipt = StockMovement.objects.get(reference="DN-9")
    assert (receipt.kind, receipt.quantity, receipt.actor) == (Kind.RECEIPT, 5, staff_user)
    assert "done for 1 stock row" in done.content.decode()


def test_adjust_action_needs_a_reason_and_records_it(admin_client_logged, stock):
    # given
    target = row("A-100", "WH1")

    # when
    missing_reason = run_action(admin_client_logged, "adjust_units", [target], quantity=-2)
    done = run_action(
        admin_client_logged, "adjust_units", [target], quantity=-2, reason="broken jar"
    )

    # then
    assert missing_reason.context["form"].errors["reason"]
    assert done.status_code == 200
    target.refresh_from_db()
    assert target.on_hand == 8
    adjustment = StockMovement.objects.get(kind=Kind.ADJUSTMENT)
    assert (adjustment.quantity, adjustment.reason) == (-2, "broken jar")


def test_adjust_action_reports_what_the_service_refuses(admin_client_logged, stock):
    target = row("A-100", "ST1")
    response = run_action(admin_client_logged, "adjust_units", [target], quantity=-5, reason="lost")
    assert "Only 2 on hand" in response.content.decode()
    target.refresh_from_db()
    assert target.on_hand == 2


def test_transfer_action_moves_units_between_locations(admin_client_logged, stock):
    # when
    run_action(
        admin_client_logged,
        "transfer_units",
        [row("A-100", "WH1")],
        destination="ST1",
        quantity=3,
    )

    # then
    assert row("A-100", "WH1").on_hand == 7
    assert row("A-100", "ST1").on_hand == 5
    kinds = set(StockMovement.objects.values_list("kind", flat=True))
    assert {Kind.TRANSFER_IN, Kind.TRANSFER_OUT} <= kinds
    assert stock_drift() == []


def test_safety_stock_action_sets_it_on_each_row(admin_client_logged, stock):
    rows = [row("A-100", "WH1"), row("A-100", "ST1")]
    run_action(admin_client_logged, "set_safety_stock", rows, safety_stock=1)
    rows = StockLevel.objects.filter(product__sku="A-100")
    assert set(rows.values_list("safety_stock", flat=True)) == {1}


# --- Count imports list ---------------------------------------------------------------------


def test_count_import_list_links_to_its_console_page(admin_client_logged, stock):
    # given
    record = StockCountImport.objects.create(
        digest="0" * 64,
        source=StockCountImport.Source.API,
        status=StockCountImport.Status.REJECTED,
        counted_at="2024-01-01T00:00:00Z",
        file_name="shelves.csv",
    )

    # when
    response = admin_client_logged.get(changelist("stockcountimport"), {"q": "shelves"})
    detail = admin_client_logged.get(
        reverse("admin:inventory_stockcountimport_change", args=[record.pk])
    )

    # then
    assert [r.pk for r in shown(response)] == [record.pk]
    assert reverse("console:count-import", args=[record.pk]) in response.content.decode()
    assert detail.status_code == 200
    assert reverse("admin:inventory_stocklevel_import") in response.content.decode()


def test_locations_can_be_edited_in_the_admin(admin_client_logged, stock):
    location = Location.objects.get(code="ST1")
    response = admin_client_logged.get(
        reverse("admin:inventory_location_change", args=[location.pk])
    )
    assert response.status_code == 200


def test_allocations_are_listed_read_only_and_searchable_by_order(admin_client_logged):
    # given
    sku = product("ALLOC-1")
    stocked(sku, warehouse("DC-ALLOC"), 5)
    order = place([(sku, 2)])
    url = reverse("admin:inventory_allocation_changelist")
    # when
    found = admin_client_logged.get(url, {"q": order.number})
    missed = admin_client_logged.get(url, {"q": "NOPE"})
    # then
    assert found.status_code == 200
    assert order.number in found.content.decode() and "DC-ALLOC" in found.content.decode()
    assert order.number not in missed.content.decode()
    assert admin_client_logged.get(reverse("admin:inventory_allocation_add")).status_code == 403


def test_stock_changelist_counts_available_as_the_api_does(admin_client_logged, api):
    # given: 4 units, all held by a reservation whose time has passed (not yet swept)
    sku = product("HELD-1")
    stock = stocked(sku, warehouse("WH-H"), 4)
    reservation = reservation_create(
        channel=Channel.objects.get(code="web"), lines=[ReservedLine(sku, 4)], minutes=15
    )
    reservation.lines.update(expires_at=timezone.now() - timedelta(minutes=1))
    # when
    listed = shown(admin_client_logged.get(changelist("stocklevel"), {"state": "available"}))
    unavailable = admin_client_logged.get(changelist("stocklevel"), {"state": "unavailable"})
    answer = api.get(reverse("availability"), {"sku": "HELD-1"}).json()
    # then: sellable in the admin's filter and column as in the API
    assert [(row.pk, row.available) for row in listed] == [(stock.pk, 4)]
    assert list(shown(unavailable)) == []
    assert answer["HELD-1"]["available"] == 4
