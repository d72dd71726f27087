"""The console's stock page of a product: every location and the recent ledger."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from inventory.services.ledger import stock_adjust, stock_receive, stock_safety_stock_set
from orders.services.reservations import ReservedLine, reservation_create
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    product = ProductFactory(sku="SKU-1", name="Crème brûlée")
    warehouse = LocationFactory(code="WH1", name="Warehouse")
    store = StoreFactory(code="ST1", name="Store")
    LocationFactory(code="EMPTY", name="Never stocked")
    stock_receive(product=product, location=warehouse, quantity=20, reference="PO-7")
    stock_receive(product=product, location=store, quantity=3)
    stock_adjust(product=product, location=store, quantity=-1, reason="broken")
    stock_safety_stock_set(product=product, location=warehouse, safety_stock=5)
    return product


def test_stock_page_shows_every_location_and_the_recent_ledger(admin_client_logged, product):
    # when
    response = admin_client_logged.get(reverse("console:product-stock", args=["SKU-1"]))

    # then
    assert response.status_code == 200
    places = {location.code: stock for location, stock in response.context["places"]}
    assert set(places) == {"WH1", "ST1", "EMPTY"}
    assert places["EMPTY"] is None
    assert (places["WH1"].on_hand, places["WH1"].safety_stock, places["WH1"].available) == (
        20,
        5,
        15,
    )
    assert response.context["totals"] == {
        "on_hand": 22,
        "allocated": 0,
        "reserved_active": 0,
        "safety_stock": 5,
        "available": 17,
        "quarantined": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    ledger = list(response.context["movements"])
    assert [(m.kind, m.quantity, m.on_hand_after) for m in ledger] == [
        ("adjustment", -1, 2),
        ("receipt", 3, 3),
        ("receipt", 20, 20),
    ]
    page = response.content.decode()
    assert "PO-7" in page and "broken" in page and "Never stocked" in page
    assert 'id="recent-ledger"' in page


def test_stock_page_is_linked_from_the_product_admin(admin_client_logged, product):
    response = admin_client_logged.get(reverse("admin:inventory_product_change", args=[product.pk]))
    assert reverse("console:product-stock", args=["SKU-1"]) in response.content.decode()


def test_stock_page_query_count_is_pinned(
    admin_client_logged, product, django_assert_max_num_queries
):
    # given: many locations and more movements than the page shows
    for n in range(40):
        location = LocationFactory(code=f"X{n:02d}")
        stock_receive(product=product, location=location, quantity=1)
        stock_receive(product=product, location=location, quantity=2)

    # when / then: the balances, the ledger, and one read of incoming supply by day
    with django_assert_max_num_queries(8):
        response = admin_client_logged.get(reverse("console:product-stock", args=["SKU-1"]))
    assert len(response.context["movements"]) == 50


def test_stock_page_holds_back_only_reservations_still_running(admin_client_logged, product):
    # given: at WH1 (20 on hand, 5 safety) one basket holds 4 units for 15 more minutes,
    # another held 6 until 5 minutes ago and the sweep has not released it yet
    channel = ChannelFactory(code="web")
    reservation_create(channel=channel, lines=[ReservedLine(product, 4)])
    reservation_create(
        channel=channel,
        lines=[ReservedLine(product, 6)],
        minutes=15,
        now=timezone.now() - timedelta(minutes=20),
    )
    stock = StockLevel.objects.get(product=product, location__code="WH1")
    assert stock.reserved == 10  # both still counted in the row until the sweep

    # when
    response = admin_client_logged.get(reverse("console:product-stock", args=["SKU-1"]))

    # then: only the running hold is reserved; the expired units are sellable again
    places = {location.code: row for location, row in response.context["places"]}
    assert (places["WH1"].reserved_active, places["WH1"].available) == (4, 11)
    assert response.context["totals"]["reserved_active"] == 4
    assert response.context["totals"]["available"] == 11 + 2
    page = response.content.decode()
    assert '<td class="numeric">4</td>' in page and '<td class="numeric">11</td>' in page


def test_stock_page_is_for_staff_only(client, django_user_model, product):
    # given
    url = reverse("console:product-stock", args=["SKU-1"])

    # when
    anonymous = client.get(url)
    client.force_login(django_user_model.objects.create_user("clerk", password="pw-123456"))
    not_staff = client.get(url)

    # then
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]
    assert not_staff.status_code == 302


def test_unknown_product_is_404(admin_client_logged):
    response = admin_client_logged.get(reverse("console:product-stock", args=["NOPE"]))
    assert response.status_code == 404


def test_stock_page_lists_the_newest_movements_across_its_locations(admin_client_logged, product):
    # given: locations whose movements interleave in time, some with more than the page shows
    locations = [LocationFactory(code=f"Y{n}") for n in range(3)]
    for round_ in range(30):
        for n, location in enumerate(locations):
            for _ in range(n + 1):
                stock_receive(product=product, location=location, quantity=round_ + 1)
    stock_adjust(product=product, location=locations[0], quantity=-1, reason="last")
    every = StockMovement.objects.filter(stock__product=product).order_by("-created_at", "-id")

    # when
    response = admin_client_logged.get(reverse("console:product-stock", args=["SKU-1"]))

    # then: the page's rows are the product's newest, in order, wherever they were moved
    shown = [m.pk for m in response.context["movements"]]
    assert shown == [m.pk for m in every[:50]]
    assert response.context["movements"][0].reason == "last"
