"""The fulfilment API for locations, and whole order flows through the API."""

import pytest
from django.urls import reverse

from fulfilment.api.serializers import FulfilmentOutputSerializer
from fulfilment.models import Fulfilment
from inventory.models import Allocation, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from orders.models import Order, OrderEvent
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db

LIST = reverse("fulfilments")
ORDERS = reverse("orders")


def act(fulfilment_id: int, action: str) -> str:
    return reverse(f"fulfilment-{action}", args=[fulfilment_id])


def order_body(**changes) -> dict:
    body = {
        "channel": "web",
        "external_id": "W-1",
        "customer": {"email": "ada@example.com", "name": "Ada", "phone": "+33 6 12 34 56 78"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.8606,
            "lon": 2.3376,
        },
        "delivery_method": "standard",
        "pickup_location": None,
        "currency": "EUR",
        "lines": [{"sku": "TEE-1", "quantity": 3, "unit_price": "19.90"}],
    }
    body.update(changes)
    return body


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def paris(tee):
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(tee, paris, 10)
    return paris


def _stock(tee, location) -> StockLevel:
    return StockLevel.objects.get(product=tee, location=location)


def test_the_list_is_a_locations_queue(api, tee, paris):
    # given
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(tee, lyon, 10)
    near_lyon = place([(tee, 2)], at=(45.75, 4.85))
    near_paris = place([(tee, 1)])
    accepted = Fulfilment.objects.get(order=near_paris)
    api.post(act(accepted.pk, "accept"))
    # when
    queue = api.get(LIST, {"location": "DC-LYON", "status": "requested"})
    paris_requested = api.get(LIST, {"location": "DC-PARIS", "status": "requested"})
    everything = api.get(LIST)
    # then
    assert queue.status_code == 200
    [row] = queue.json()["results"]
    assert row["order"] == near_lyon.number
    assert (row["location"], row["status"], row["lines"]) == (
        "DC-LYON",
        "requested",
        [{"sku": "TEE-1", "quantity": 2}],
    )
    assert {"id", "carrier", "tracking_number", "created_at", "updated_at"} <= set(row)
    assert paris_requested.json()["count"] == 0
    assert everything.json()["count"] == 2


def test_the_list_costs_a_fixed_number_of_queries(api, tee, paris, django_assert_max_num_queries):
    # given
    for _ in range(10):
        place([(tee, 1)])
    # when
    with django_assert_max_num_queries(6):
        response = api.get(LIST, {"location": "DC-PARIS"})
    # then
    assert response.json()["count"] == 10


def test_it_shows_one_fulfilment_and_404s_an_unknown_one(api, tee, paris):
    # given
    order = place([(tee, 2)])
    fulfilment = Fulfilment.objects.get()
    # when
    found = api.get(reverse("fulfilment-detail", args=[fulfilment.pk]))
    missing = api.get(reverse("fulfilment-detail", args=[fulfilment.pk + 1000]))
    huge = api.get(f"/api/v1/fulfilments/{10**30}/")
    # then
    assert found.status_code == 200
    assert found.json()["order"] == order.number
    assert found.json()["shipping_address"]["city"] == "Paris"
    assert (missing.status_code, huge.status_code) == (404, 404)


@pytest.mark.parametrize("action", ["accept", "reject", "ship", "ready", "collected"])
def test_every_action_on_an_unknown_fulfilment_is_a_404(api, action):
    # when
    response = api.post(act(4242, action), {"reason": "x", "carrier": "x", "tracking_number": "x"})
    # then
    assert response.status_code == 404


def test_fulfilments_need_a_token(anonymous_api, tee, paris):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    listed = anonymous_api.get(LIST)
    accepted = anonymous_api.post(act(fulfilment.pk, "accept"))
    # then
    assert (listed.status_code, accepted.status_code) == (401, 401)
    assert Fulfilment.objects.get().status == "requested"


def test_accept_then_accept_again_changes_nothing_more(api, tee, paris):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    first = api.post(act(fulfilment.pk, "accept"))
    again = api.post(act(fulfilment.pk, "accept"))
    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == "accepted"
    assert OrderEvent.objects.filter(kind="fulfilment_accepted").count() == 1


def test_the_whole_flow_create_accept_ship_moves_stock_through_the_ledger(api, tee, paris):
    # given: an order taken through the API
    created = api.post(ORDERS, order_body(), format="json")
    assert created.status_code == 201
    [fulfilment] = created.json()["fulfilments"]
    # when
    accepted = api.post(act(fulfilment["id"], "accept"))
    shipped = api.post(
        act(fulfilment["id"], "ship"),
        {"carrier": "Colissimo", "tracking_number": "6A123"},
        format="json",
    )
    # then
    assert (accepted.status_code, shipped.status_code) == (200, 200)
    assert (
        shipped.json()["status"],
        shipped.json()["carrier"],
        shipped.json()["tracking_number"],
    ) == (
        "shipped",
        "Colissimo",
        "6A123",
    )
    assert shipped.json()["lines"] == [{"sku": "TEE-1", "quantity": 3}]
    order = api.get(reverse("order-detail", args=[created.json()["number"]])).json()
    assert order["status"] == "shipped"
    assert order["lines"][0]["shipped"] == 3 and order["lines"][0]["allocated"] == 3
    assert [a["status"] for a in order["allocations"]] == ["shipped"]
    assert order["fulfilments"][0]["tracking_number"] == "6A123"
    stock = _stock(tee, paris)
    assert (stock.on_hand, stock.allocated) == (7, 0)
    movement = StockMovement.objects.get(kind="shipment")
    assert (movement.quantity, movement.on_hand_after, movement.stock) == (-3, 7, stock)
    assert stock_drift() == []
    # and a shipped order can no longer be cancelled
    cancel = api.post(reverse("order-cancel", args=[order["number"]]))
    assert cancel.status_code == 409


def test_cancel_through_the_api_gives_the_stock_back(api, tee, paris):
    # given
    created = api.post(ORDERS, order_body(), format="json").json()
    assert _stock(tee, paris).allocated == 3
    # when
    response = api.post(reverse("order-cancel", args=[created["number"]]), {"reason": "fraud"})
    # then
    assert response.status_code == 200
    assert _stock(tee, paris).allocated == 0
    fulfilment = api.get(reverse("fulfilment-detail", args=[created["fulfilments"][0]["id"]]))
    assert fulfilment.json()["status"] == "cancelled"
    assert fulfilment.json()["lines"] == []
    # and shipping a cancelled fulfilment is refused
    ship = api.post(
        act(created["fulfilments"][0]["id"], "ship"),
        {"carrier": "UPS", "tracking_number": "1Z"},
        format="json",
    )
    assert ship.status_code == 409
    assert _stock(tee, paris).on_hand == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tracking_number": "1Z"}, "carrier"),
        ({"carrier": "UPS"}, "tracking_number"),
        ({"carrier": "", "tracking_number": "1Z"}, "carrier"),
        ({"carrier": "UPS", "tracking_number": None}, "tracking_number"),
        ({"carrier": "UPS", "tracking_number": "1" * 129}, "tracking_number"),
    ],
)
def test_ship_needs_carrier_and_tracking_number(api, tee, paris, body, field):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    response = api.post(act(fulfilment.pk, "ship"), body, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Fulfilment.objects.get().status == "requested"
    assert _stock(tee, paris).on_hand == 10


def test_ship_again_with_another_tracking_number_is_a_409(api, tee, paris):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    api.post(act(fulfilment.pk, "ship"), {"carrier": "UPS", "tracking_number": "1Z"})
    # when
    same = api.post(act(fulfilment.pk, "ship"), {"carrier": "UPS", "tracking_number": "1Z"})
    other = api.post(act(fulfilment.pk, "ship"), {"carrier": "UPS", "tracking_number": "2Z"})
    # then
    assert (same.status_code, other.status_code) == (200, 409)
    assert StockMovement.objects.filter(kind="shipment").count() == 1


def test_an_idempotency_key_on_ship_replays_the_first_answer(api, tee, paris):
    # given
    place([(tee, 2)])
    fulfilment = Fulfilment.objects.get()
    body = {"carrier": "UPS", "tracking_number": "1Z"}
    first = api.post(act(fulfilment.pk, "ship"), body, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    # when
    again = api.post(act(fulfilment.pk, "ship"), body, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert StockMovement.objects.filter(kind="shipment").count() == 1
    assert _stock(tee, paris).on_hand == 8


def test_reject_sources_the_lines_again_at_another_location(api, tee, paris):
    # given
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(tee, lyon, 10)
    created = api.post(ORDERS, order_body(), format="json").json()
    [first] = created["fulfilments"]
    assert first["location"] == "DC-PARIS"
    # when
    response = api.post(
        act(first["id"], "reject"), {"reason": "printer broken", "reason_code": "no_capacity"}
    )
    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("rejected", "printer broken")
    assert response.json()["lines"] == []
    order = api.get(reverse("order-detail", args=[created["number"]])).json()
    assert order["status"] == "allocated"
    assert [(a["location"], a["quantity"]) for a in order["allocations"]] == [("DC-LYON", 3)]
    assert {f["location"]: f["status"] for f in order["fulfilments"]} == {
        "DC-PARIS": "rejected",
        "DC-LYON": "requested",
    }
    rejected = [e for e in order["events"] if e["kind"] == "fulfilment_rejected"]
    assert len(rejected) == 1 and rejected[0]["public"] is False
    assert "printer broken" in rejected[0]["message"]
    assert (_stock(tee, paris).allocated, _stock(tee, lyon).allocated) == (0, 3)
    assert _stock(tee, paris).on_hand == 10  # no_capacity says nothing about the shelf
    assert Allocation.objects.filter(status="released").count() == 1


def test_reject_out_of_stock_corrects_on_hand_through_the_ledger(api, tee, paris):
    # given
    place([(tee, 3)])
    fulfilment = Fulfilment.objects.get()
    # when
    response = api.post(
        act(fulfilment.pk, "reject"), {"reason": "shelf empty", "reason_code": "out_of_stock"}
    )
    # then
    assert response.status_code == 200
    assert _stock(tee, paris).on_hand == 7
    assert StockMovement.objects.filter(kind="adjustment", quantity=-3).exists()
    assert stock_drift() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "reason_code": "bored"}, "reason_code"),
    ],
)
def test_reject_needs_a_reason(api, tee, paris, body, field):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    response = api.post(act(fulfilment.pk, "reject"), body, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Fulfilment.objects.get().status == "requested"


def test_a_rejected_fulfilment_cannot_be_accepted_or_shipped(api, tee, paris):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    api.post(act(fulfilment.pk, "reject"), {"reason": "no"})
    # when
    accept = api.post(act(fulfilment.pk, "accept"))
    ship = api.post(act(fulfilment.pk, "ship"), {"carrier": "UPS", "tracking_number": "1"})
    # then
    assert (accept.status_code, ship.status_code) == (409, 409)
    assert accept.json()["errors"]["status"]
    assert Fulfilment.objects.get(pk=fulfilment.pk).status == "rejected"


def test_click_and_collect_allocates_only_at_the_pickup_store_then_ready_then_collected(
    api, tee, paris
):
    # given: the warehouse is as near and has more, but the customer collects at the store
    store = StoreFactory(code="ST-LOUVRE", lat=48.861, lon=2.336, shipment_cost="50.00")
    stocked(tee, store, 4)
    created = api.post(
        ORDERS,
        order_body(delivery_method="click_and_collect", pickup_location="ST-LOUVRE"),
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["pickup_location"] == "ST-LOUVRE"
    assert {a["location"] for a in body["allocations"]} == {"ST-LOUVRE"}
    [fulfilment] = body["fulfilments"]
    # when
    not_yet = api.post(act(fulfilment["id"], "collected"))
    ready = api.post(act(fulfilment["id"], "ready"))
    ready_order = Order.objects.get(number=body["number"]).status
    collected = api.post(act(fulfilment["id"], "collected"))
    # then
    assert not_yet.status_code == 409
    assert (ready.status_code, ready.json()["status"]) == (200, "ready_for_pickup")
    assert ready_order == "ready_for_pickup"
    assert (collected.status_code, collected.json()["status"]) == (200, "collected")
    assert Order.objects.get(number=body["number"]).status == "collected"
    assert (_stock(tee, store).on_hand, _stock(tee, store).allocated) == (1, 0)
    assert _stock(tee, paris).allocated == 0
    assert stock_drift() == []


def test_click_and_collect_is_refused_on_pickup_location_when_the_store_lacks_stock(
    api, tee, paris
):
    # given
    store = StoreFactory(code="ST-LOUVRE")
    stocked(tee, store, 2)
    # when
    response = api.post(
        ORDERS,
        order_body(delivery_method="click_and_collect", pickup_location="ST-LOUVRE"),
        format="json",
    )
    # then
    assert response.status_code == 400
    assert "pickup_location" in response.json()["errors"]
    assert Order.objects.count() == 0
    assert (_stock(tee, store).allocated, _stock(tee, paris).allocated) == (0, 0)


def test_ready_is_only_for_click_and_collect(api, tee, paris):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    response = api.post(act(fulfilment.pk, "ready"))
    # then
    assert response.status_code == 409
    assert Fulfilment.objects.get().status == "requested"


def test_the_fulfilment_answer_reads_its_lines_when_not_prefetched(tee, paris):
    # given: a fulfilment read without fulfilments_for_output() (as a webhook might)
    order = place([(tee, 2)])
    fulfilment = Fulfilment.objects.get()
    # when
    data = FulfilmentOutputSerializer(fulfilment).data
    # then
    assert (data["order"], data["lines"]) == (order.number, [{"sku": "TEE-1", "quantity": 2}])
