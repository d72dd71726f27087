"""The product stock page (/console/products/<sku>/stock/) with supply: in transit and
incoming per location, and the 30-day projection of incoming less promised."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.incoming import IncomingDay
from inventory.services import stock_receive
from orders.models import CarrierService, TransitBand
from supply.incoming import incoming_days
from supply.services.purchase_orders import purchase_order_create
from supply.services.transfers import TransferLineInput, transfer_create, transfer_ship
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplied():
    """SHIRT: 10 at DC-PARIS, 4 of them shipped to ST-RIVOLI; 5 coming to DC-PARIS in 3 days
    (PO-1), 7 in 40 days (PO-2); an order for 12 takes the 6 on the shelf and is promised 5
    of PO-1's... and none of PO-2's, which arrives after the order would be late anyway."""
    service = CarrierService.objects.create(code="colissimo", name="Colissimo", method="standard")
    TransitBand.objects.create(service=service, max_km=800, days=2)
    dc = warehouse("DC-PARIS", lat=48.85, lon=2.35)
    store = StoreFactory(code="ST-RIVOLI", lat=48.8606, lon=2.3376, ships=False)
    shirt = product("SHIRT")
    stock_receive(product=shirt, location=dc, quantity=10)
    transfer = transfer_create(
        source=dc, destination=store, lines=[TransferLineInput(product=shirt, quantity=4)]
    )
    transfer_ship(transfer_id=transfer.pk)
    today = timezone.localdate()
    for number, units, days in (("PO-1", 5, 3), ("PO-2", 7, 40)):
        purchase_order_create(
            number=number,
            supplier="Acme",
            location=dc,
            expected_on=today + timedelta(days=days),
            lines=[(shirt, units)],
        )
    place([(shirt, 8)])
    return shirt, dc, store


def test_incoming_days_count_what_arrives_and_what_is_promised_of_it(supplied):
    # given
    shirt, dc, store = supplied
    today = timezone.localdate()

    # when
    days = incoming_days(shirt.pk, None, today, 30)

    # then: PO-1's 5 on day 3, 2 of them promised (8 ordered, 6 on the shelf); PO-2 is later
    assert len(days) == 30
    assert [d for d in days if d.incoming or d.promised] == [
        IncomingDay(today + timedelta(days=3), 5, 2)
    ]
    # Counted at the store only: nothing comes there.
    assert not any(d.incoming for d in incoming_days(shirt.pk, frozenset({store.pk}), today, 30))


def test_the_stock_page_shows_in_transit_incoming_and_the_projection(
    admin_client_logged, supplied, django_assert_max_num_queries
):
    # when
    with django_assert_max_num_queries(20):
        response = admin_client_logged.get(reverse("console:product-stock", args=["SHIRT"]))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    by_location = response.context["places"]
    rows = {location.code: stock for location, stock in by_location}
    assert (rows["ST-RIVOLI"].in_transit, rows["DC-PARIS"].incoming) == (4, 12)
    assert response.context["totals"]["in_transit"] == 4
    assert response.context["totals"]["incoming"] == 12
    projection = response.context["projection"]
    assert (projection["incoming"], projection["promised"], projection["free"]) == (5, 2, 3)
    assert '<svg class="projection-chart" id="projection"' in html
    assert "5 units expected from purchase orders, 2 of them promised" in html
    # The day with supply has its bar and its row in the table under the chart.
    assert html.count('class="incoming"') >= 1 and html.count('class="promised"') >= 1
    assert "5 incoming, 2 promised, 3 free so far" in html


def test_an_overdue_purchase_order_counts_today(supplied):
    # given: PO-1 was expected three days ago
    shirt, _, _ = supplied
    from supply.models import PurchaseOrder

    PurchaseOrder.objects.filter(number="PO-1").update(
        expected_on=timezone.localdate() - timedelta(days=3)
    )

    # when
    days = incoming_days(shirt.pk, None, timezone.localdate(), 30)

    # then
    assert (days[0].incoming, days[0].promised) == (5, 2)
