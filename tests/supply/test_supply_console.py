"""A location's transfers and purchase orders in the console (/console/supply/): the three
queues, shipping and cancelling, and receiving with a scanner (scan adds, Receive records)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import STORE_STAFF, WAREHOUSE_STAFF
from alerts.models import Alert
from console.navigation import links_for
from inventory.models import StockLevel
from inventory.services import stock_receive
from supply.models import PurchaseOrder, Transfer
from supply.services.purchase_orders import purchase_order_create
from supply.services.transfers import TransferLineInput, transfer_create, transfer_ship
from tests.console.helpers import person
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

QUEUES = reverse("supply_console:queues")


@pytest.fixture
def places():
    dc = LocationFactory(code="DC-PARIS")
    store = StoreFactory(code="ST-RIVOLI")
    shirt = ProductFactory(sku="SHIRT", barcode="3700000000017")
    mug = ProductFactory(sku="MUG")
    stock_receive(product=shirt, location=dc, quantity=20)
    stock_receive(product=mug, location=dc, quantity=20)
    return dc, store, shirt, mug


def _transfer(places, *, shipped: bool) -> Transfer:
    dc, store, shirt, mug = places
    transfer = transfer_create(
        source=dc,
        destination=store,
        lines=[TransferLineInput(shirt, 4), TransferLineInput(mug, 2)],
    )
    if shipped:
        transfer_ship(transfer_id=transfer.pk)
    return transfer


def _po(places, *, days: int, number: str = "PO-1") -> PurchaseOrder:
    dc, _, shirt, _ = places
    purchase_order, _ = purchase_order_create(
        number=number,
        supplier="Acme",
        location=dc,
        expected_on=timezone.localdate() + timedelta(days=days),
        lines=[(shirt, 10)],
    )
    return purchase_order


def test_the_queues_of_a_location(admin_client_logged, places):
    # given: one transfer to ship from DC-PARIS, POs this week, late, and next month
    requested = _transfer(places, shipped=False)
    _po(places, days=3, number="PO-SOON")
    _po(places, days=-2, number="PO-LATE")
    _po(places, days=30, number="PO-LATER")

    # when
    to_ship = admin_client_logged.get(QUEUES, {"location": "DC-PARIS", "tab": "to-ship"})
    expected = admin_client_logged.get(QUEUES, {"location": "DC-PARIS", "tab": "expected"})
    in_transit = admin_client_logged.get(QUEUES, {"location": "ST-RIVOLI", "tab": "in-transit"})

    # then
    html = to_ship.content.decode()
    assert f'id="transfer-{requested.number}"' in html and "SHIRT: 4, MUG: 2" in html
    assert "To ship (1)" in html and "Expected this week (2)" in html
    html = expected.content.decode()
    assert 'id="po-PO-SOON"' in html and 'id="po-PO-LATE"' in html
    assert "PO-LATER" not in html and "(late)" in html
    assert "Nothing on its way here." in in_transit.content.decode()


def test_ship_and_cancel_from_the_queue(admin_client_logged, places):
    # given
    first, second = _transfer(places, shipped=False), _transfer(places, shipped=False)

    # when
    admin_client_logged.post(reverse("supply_console:transfer-act", args=[first.number, "ship"]))
    response = admin_client_logged.post(
        reverse("supply_console:transfer-act", args=[second.number, "cancel"]), follow=True
    )

    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("shipped", "cancelled")
    assert f"Transfer {second.number} cancelled" in response.content.decode()
    dc, store, shirt, _ = places
    assert StockLevel.objects.get(product=shirt, location=store).in_transit == 4
    assert StockLevel.objects.get(product=shirt, location=dc).allocated == 0


def test_receiving_a_transfer_by_scans(admin_client_logged, places):
    # given: 4 shirts and 2 mugs on their way
    transfer = _transfer(places, shipped=True)
    url = reverse("supply_console:transfer-receive", args=[transfer.number])
    page = admin_client_logged.get(url)
    assert page.status_code == 200 and 'name="code"' in page.content.decode()

    # when: the shirt's barcode scanned with 3 units, then "MUG" once; nothing is written yet
    first = admin_client_logged.post(
        url, {"tally": "", "code": "3700000000017", "quantity": "3", "action": "add"}
    )
    tally = first.context["tally"]
    second = admin_client_logged.post(
        url, {"tally": tally, "code": " MUG ", "quantity": "1", "action": "add"}
    )
    assert second.context["scanned"] == 4
    transfer.refresh_from_db()
    assert transfer.status == "shipped"

    # when: Receive
    done = admin_client_logged.post(
        url, {"tally": second.context["tally"], "action": "receive"}, follow=True
    )

    # then: received, the shortfall recorded with an alert
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert sorted((line.product.sku, line.received) for line in transfer.lines.all()) == [
        ("MUG", 1),
        ("SHIRT", 3),
    ]
    html = done.content.decode()
    assert f"Transfer {transfer.number} received: 4 units; 2 missing" in html
    assert Alert.objects.filter(kind=Alert.Kind.TRANSFER_DISCREPANCY).exists()
    _, store, shirt, _ = places
    row = StockLevel.objects.get(product=shirt, location=store)
    assert (row.on_hand, row.in_transit) == (3, 0)


@pytest.mark.parametrize(
    ("post", "says"),
    [
        ({"code": "NOPE", "quantity": "1"}, "SKU or barcode: NOPE is not on transfer"),
        ({"code": "SHIRT", "quantity": "0"}, "Quantity: a whole number from 1"),
        ({"code": "SHIRT", "quantity": "5"}, "Quantity: SHIRT has 4 expected, 0 scanned"),
        ({"code": "SHIRT", "quantity": "1", "tally": "999999:1"}, "The tally was not one"),
        ({"action": "receive"}, "Scan at least one unit before receiving."),
    ],
    ids=["unknown code", "zero", "more than shipped", "forged tally", "nothing scanned"],
)
def test_a_bad_scan_is_refused_naming_the_field_and_nothing_moves(
    admin_client_logged, places, post, says
):
    # given
    transfer = _transfer(places, shipped=True)
    url = reverse("supply_console:transfer-receive", args=[transfer.number])

    # when
    response = admin_client_logged.post(url, {"tally": "", "action": "add", **post})

    # then
    assert response.status_code == 400
    assert says in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == "shipped"


def test_receiving_a_purchase_order_by_scans_flags_more_than_ordered(admin_client_logged, places):
    # given: 10 shirts ordered
    purchase_order = _po(places, days=1)
    url = reverse("supply_console:purchase-order-receive", args=["PO-1"])

    # when: 12 arrive
    added = admin_client_logged.post(
        url, {"tally": "", "code": "SHIRT", "quantity": "12", "action": "add"}
    )
    done = admin_client_logged.post(
        url, {"tally": added.context["tally"], "action": "receive"}, follow=True
    )

    # then
    purchase_order.refresh_from_db()
    assert purchase_order.status == "received"
    assert "more than ordered of SHIRT (+2)" in done.content.decode()
    dc, _, shirt, _ = places
    row = StockLevel.objects.get(product=shirt, location=dc)
    assert (row.on_hand, row.incoming) == (32, 0)


def test_staff_work_their_own_locations_only(client, places):
    # given: a clerk at ST-RIVOLI; a transfer leaving DC-PARIS
    dc, store, _, _ = places
    transfer = _transfer(places, shipped=False)
    client.force_login(person("clerk", STORE_STAFF, store))

    # when
    page = client.get(QUEUES, {"location": "DC-PARIS"})
    ship = client.post(reverse("supply_console:transfer-act", args=[transfer.number, "ship"]))

    # then: they see their store's queues, not the warehouse's, and cannot ship its transfer
    assert page.context["location"] == store
    assert [place.code for place in page.context["locations"]] == ["ST-RIVOLI"]
    assert ship.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == "requested"


def test_warehouse_staff_ship_theirs_and_the_link_is_in_their_navigation(client, places):
    # given
    dc, _, _, _ = places
    transfer = _transfer(places, shipped=False)
    worker = person("picker", WAREHOUSE_STAFF, dc)
    client.force_login(worker)

    # when
    client.post(reverse("supply_console:transfer-act", args=[transfer.number, "ship"]))

    # then
    transfer.refresh_from_db()
    assert transfer.status == "shipped"
    assert any(link.url == QUEUES for link in links_for(worker))
