"""POST/GET /api/v1/transfers/ and each transition: the holds, the ledger, in_transit, the
discrepancy alert and the events (docs/api.md "Transfers between locations")."""

import pytest
from django.urls import reverse

from alerts.models import Alert
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services import stock_receive
from outbox.models import OutboxEvent
from supply.models import Transfer
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

TRANSFERS = reverse("transfers")


@pytest.fixture
def dc():
    return LocationFactory(code="DC-PARIS")


@pytest.fixture
def store():
    return StoreFactory(code="ST-RIVOLI")


@pytest.fixture
def shirt(dc):
    product = ProductFactory(sku="SHIRT")
    stock_receive(product=product, location=dc, quantity=10)
    return product


@pytest.fixture
def mug(dc):
    product = ProductFactory(sku="MUG")
    stock_receive(product=product, location=dc, quantity=2)
    return product


def _row(product, location) -> StockLevel:
    return StockLevel.objects.get(product=product, location=location)


def _url(name: str, number: str) -> str:
    return reverse(name, kwargs={"transfer_number": number})


def _create(api, lines, *, source="DC-PARIS", to="ST-RIVOLI"):
    body = {"from": source, "to": to, "lines": lines, "reference": "replenish"}
    return api.post(TRANSFERS, body, format="json")


def _shipped(api, lines) -> str:
    number = _create(api, lines).json()["number"]
    assert api.post(_url("transfer-ship", number)).status_code == 200
    return number


def test_create_holds_the_units_at_from(api, dc, store, shirt):
    # when
    response = _create(api, [{"sku": "SHIRT", "quantity": 4}])
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("TR-")
    assert (body["from"], body["to"], body["status"]) == ("DC-PARIS", "ST-RIVOLI", "requested")
    assert body["lines"] == [{"sku": "SHIRT", "quantity": 4, "received": 0}]
    assert "created_at" in body
    row = _row(shirt, dc)
    assert (row.on_hand, row.allocated, row.available) == (10, 4, 6)
    event = OutboxEvent.objects.get(event="transfer.requested")
    assert (event.location_id, event.other_location_id) == (dc.pk, store.pk)
    assert event.data["number"] == body["number"]
    assert stock_drift() == []


def test_create_is_all_or_nothing_and_names_the_lines_from_cannot_spare(api, dc, store, shirt, mug):
    # given: two mugs, one of them held by another transfer
    assert _create(api, [{"sku": "MUG", "quantity": 1}]).status_code == 201
    # when
    response = _create(
        api,
        [
            {"sku": "SHIRT", "quantity": 3},
            {"sku": "MUG", "quantity": 2},
        ],
    )
    # then
    assert response.status_code == 409
    body = response.json()
    assert body["lines"] == [{"line": 1, "sku": "MUG", "quantity": 2, "available": 1}]
    assert "lines[1] (MUG): 2 asked, 1 available at DC-PARIS" in body["errors"]["lines"][0]
    assert Transfer.objects.count() == 1
    assert _row(shirt, dc).allocated == 0  # nothing held for the refused transfer
    assert _row(mug, dc).allocated == 1


def test_create_refuses_bad_input_naming_the_field(api, dc, store, shirt):
    cases = [
        (
            {"from": "NOWHERE", "to": "ST-RIVOLI", "lines": [{"sku": "SHIRT", "quantity": 1}]},
            "from",
        ),
        ({"from": "DC-PARIS", "to": "DC-PARIS", "lines": [{"sku": "SHIRT", "quantity": 1}]}, "to"),
        ({"from": "DC-PARIS", "to": "ST-RIVOLI", "lines": []}, "lines"),
        (
            {
                "from": "DC-PARIS",
                "to": "ST-RIVOLI",
                "lines": [{"sku": "SHIRT", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
            },
            "lines[1].sku",
        ),
        (
            {
                "from": "DC-PARIS",
                "to": "ST-RIVOLI",
                "lines": [{"sku": "SHIRT", "quantity": 1}, {"sku": "SHIRT", "quantity": 2}],
            },
            "lines[1].sku",
        ),
        (
            {"from": "DC-PARIS", "to": "ST-RIVOLI", "lines": [{"sku": "SHIRT", "quantity": 0}]},
            "lines",
        ),
    ]
    for body, field in cases:
        # when
        response = api.post(TRANSFERS, body, format="json")
        # then
        assert response.status_code == 400, body
        assert field in response.json()["errors"], (field, response.json())
    assert Transfer.objects.count() == 0
    assert _row(shirt, dc).allocated == 0


def test_ship_moves_the_units_out_of_from_and_into_in_transit_at_to(api, dc, store, shirt):
    # given
    number = _create(api, [{"sku": "SHIRT", "quantity": 4}]).json()["number"]
    # when
    response = api.post(_url("transfer-ship", number))
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "shipped"
    source, destination = _row(shirt, dc), _row(shirt, store)
    assert (source.on_hand, source.allocated) == (6, 0)
    assert (destination.on_hand, destination.in_transit) == (0, 4)
    out = StockMovement.objects.get(stock=source, kind="transfer_out")
    assert (out.quantity, out.reference) == (-4, f"transfer {number}")
    stock = api.get(reverse("stock"), {"location": "ST-RIVOLI"}).json()["results"]
    assert stock[0]["in_transit"] == 4 and stock[0]["incoming"] == 0
    assert OutboxEvent.objects.filter(event="transfer.shipped").count() == 1
    assert stock_drift() == []
    # and a second ship is a conflict
    assert api.post(_url("transfer-ship", number)).status_code == 409


def test_receive_in_full_moves_the_units_on_hand_at_to(api, dc, store, shirt):
    # given
    number = _shipped(api, [{"sku": "SHIRT", "quantity": 4}])
    # when
    response = api.post(
        _url("transfer-receive", number),
        {"lines": [{"sku": "SHIRT", "quantity": 4}]},
        format="json",
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "received"
    assert body["lines"] == [{"sku": "SHIRT", "quantity": 4, "received": 4}]
    assert body["discrepancies"] == []
    destination = _row(shirt, store)
    assert (destination.on_hand, destination.in_transit) == (4, 0)
    assert StockMovement.objects.get(stock=destination).kind == "transfer_in"
    assert not Alert.objects.filter(kind="transfer_discrepancy").exists()
    assert OutboxEvent.objects.filter(event="transfer.received").count() == 1
    assert stock_drift() == []


def test_a_short_receipt_records_a_discrepancy_with_an_alert_until_the_rest_arrives(
    api, dc, store, shirt
):
    # given
    number = _shipped(api, [{"sku": "SHIRT", "quantity": 5}])
    receive = _url("transfer-receive", number)
    # when
    response = api.post(receive, {"lines": [{"sku": "SHIRT", "quantity": 3}]}, format="json")
    # then: received, two missing, out of in_transit
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "received"
    assert body["lines"] == [{"sku": "SHIRT", "quantity": 5, "received": 3}]
    assert body["discrepancies"] == [{"sku": "SHIRT", "missing": 2}]
    destination = _row(shirt, store)
    assert (destination.on_hand, destination.in_transit) == (3, 0)
    alert = Alert.objects.get(kind="transfer_discrepancy")
    assert (alert.status, alert.location_id) == ("open", store.pk)
    assert alert.details["missing"] == [{"sku": "SHIRT", "missing": 2}]
    listed = api.get(reverse("alerts"), {"kind": "transfer_discrepancy"}).json()["results"]
    assert [a["id"] for a in listed] == [alert.pk]
    assert stock_drift() == []

    # when: more than is missing turns up
    too_many = api.post(receive, {"lines": [{"sku": "SHIRT", "quantity": 3}]}, format="json")
    # then
    assert too_many.status_code == 400
    assert "lines[0].quantity" in too_many.json()["errors"]

    # when: the two missing units turn up after all
    late = api.post(receive, {"lines": [{"sku": "SHIRT", "quantity": 2}]}, format="json")
    # then
    assert late.status_code == 200
    assert late.json()["discrepancies"] == []
    assert _row(shirt, store).on_hand == 5
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert stock_drift() == []
    # and nothing is left to receive
    assert (
        api.post(receive, {"lines": [{"sku": "SHIRT", "quantity": 1}]}, format="json").status_code
        == 409
    )


def test_receive_refuses_a_requested_transfer_and_a_sku_not_on_it(api, dc, store, shirt, mug):
    # given
    number = _create(api, [{"sku": "SHIRT", "quantity": 1}]).json()["number"]
    receive = _url("transfer-receive", number)
    # when / then
    early = api.post(receive, {"lines": [{"sku": "SHIRT", "quantity": 1}]}, format="json")
    assert early.status_code == 409
    api.post(_url("transfer-ship", number))
    stranger = api.post(receive, {"lines": [{"sku": "MUG", "quantity": 1}]}, format="json")
    assert stranger.status_code == 400
    assert "lines[0].sku" in stranger.json()["errors"]
    assert _row(shirt, store).in_transit == 1


def test_cancel_before_shipping_gives_the_units_back_and_after_it_is_a_409(api, dc, store, shirt):
    # given
    first = _create(api, [{"sku": "SHIRT", "quantity": 4}]).json()["number"]
    second = _shipped(api, [{"sku": "SHIRT", "quantity": 2}])
    # when
    cancelled = api.post(_url("transfer-cancel", first))
    refused = api.post(_url("transfer-cancel", second))
    # then
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert refused.status_code == 409
    assert "status" in refused.json()["errors"]
    row = _row(shirt, dc)
    assert (row.on_hand, row.allocated, row.available) == (8, 0, 8)
    assert OutboxEvent.objects.filter(event="transfer.cancelled").count() == 1
    assert stock_drift() == []


def test_list_filters_by_from_to_and_status_and_detail_answers_by_number(api, dc, store, shirt):
    # given
    other = StoreFactory(code="ST-LYON")
    first = _create(api, [{"sku": "SHIRT", "quantity": 1}]).json()["number"]
    second = _create(api, [{"sku": "SHIRT", "quantity": 1}], to="ST-LYON").json()["number"]
    api.post(_url("transfer-ship", second))

    def numbers(**query):
        response = api.get(TRANSFERS, query)
        assert response.status_code == 200
        return {row["number"] for row in response.json()["results"]}

    # when / then
    assert numbers() == {first, second}
    assert numbers(to="ST-RIVOLI") == {first}
    assert numbers(**{"from": "DC-PARIS", "status": "shipped"}) == {second}
    assert numbers(to=other.code, status="requested") == set()
    detail = api.get(_url("transfer-detail", first))
    assert detail.status_code == 200 and detail.json()["number"] == first
    assert api.get(_url("transfer-detail", "TR-NOTHING")).status_code == 404


def test_an_unknown_transfer_is_a_404_for_each_action(api):
    for name in ("transfer-ship", "transfer-receive", "transfer-cancel"):
        assert api.post(_url(name, "TR-NOTHING"), {}, format="json").status_code == 404
