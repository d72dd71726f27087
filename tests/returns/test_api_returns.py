"""The returns API: making, reading, receiving, refunding and cancelling returns."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from orders.models import Channel, OrderEvent, OrderLine
from outbox.models import OutboxEvent
from returns.models import Refund, Return, ReturnReceipt
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse
from tests.returns.helpers import order_shipped, return_of

pytestmark = pytest.mark.django_db

LIST = reverse("returns")


def act(number: str, action: str) -> str:
    return reverse(f"return-{action}", args=[number])


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def mug():
    return product("MUG-1")


@pytest.fixture
def paris(tee, mug):
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(tee, paris, 10)
    stocked(mug, paris, 10)
    return paris


@pytest.fixture
def shipped(tee, mug, paris):
    return order_shipped([(tee, 3, "19.90"), (mug, 1, "9.50")])


def body(shipped, **changes) -> dict:
    data = {
        "order": shipped.number,
        "lines": [{"sku": "TEE-1", "quantity": 2, "reason": "too_small"}],
        "method": "mail",
        "location": None,
        "resolution": "refund",
    }
    data.update(changes)
    return data


def on_hand(sku_product, location) -> int:
    return StockLevel.objects.get(product=sku_product, location=location).on_hand


# Create


def test_it_makes_a_return_of_shipped_units(api, shipped, paris):
    # when
    response = api.post(LIST, body(shipped), format="json")
    # then
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["order"] == shipped.number
    assert answer["status"] == "requested"
    assert answer["method"] == "mail"
    assert answer["location"] == "DC-PARIS"  # the warehouse that shipped it
    assert answer["resolution"] == "refund"
    assert answer["lines"][0] == {
        "sku": "TEE-1",
        "quantity": 2,
        "received": 0,
        "restocked": 0,
        "damaged": 0,
        "disposed": 0,
        "reason": "too_small",
    }
    assert answer["refund"] == {"amount": "0.00", "currency": "EUR", "status": "none"}
    assert answer["exchange_order"] is None
    assert answer["number"].startswith("R") and len(answer["number"]) == 10
    ret = Return.objects.get(number=answer["number"])
    assert OrderLine.objects.get(order=shipped, product__sku="TEE-1").quantity_returned == 2
    assert OrderEvent.objects.filter(order=shipped, kind="return_requested").count() == 1
    event = OutboxEvent.objects.get(event="return.created")
    assert event.data["number"] == ret.number
    assert event.location_id == paris.pk


def test_the_order_shows_returned_per_line(api, shipped):
    # given
    api.post(LIST, body(shipped), format="json")
    # when
    order = api.get(reverse("order-detail", args=[shipped.number])).json()
    # then
    returned = {line["sku"]: line["returned"] for line in order["lines"]}
    assert returned == {"TEE-1": 2, "MUG-1": 0}
    assert "return_requested" in [event["kind"] for event in order["events"]]


def test_more_units_than_received_and_not_yet_returned_is_a_400_naming_the_line(api, shipped):
    # given: two of the three shirts are on a first return
    first = api.post(LIST, body(shipped), format="json")
    assert first.status_code == 201
    # when
    response = api.post(
        LIST,
        body(shipped, lines=[{"sku": "TEE-1", "quantity": 2, "reason": "too_large"}]),
        format="json",
    )
    # then
    assert response.status_code == 400
    [message] = response.json()["errors"]["lines"]
    assert "Line 1 (TEE-1)" in message and "only 1" in message
    assert Return.objects.count() == 1
    assert OrderLine.objects.get(order=shipped, product__sku="TEE-1").quantity_returned == 2


def test_a_sku_not_on_the_order_is_a_400(api, shipped):
    product("SOCK-1")
    response = api.post(
        LIST,
        body(shipped, lines=[{"sku": "SOCK-1", "quantity": 1, "reason": "other"}]),
        format="json",
    )
    assert response.status_code == 400
    assert "not on order" in response.json()["errors"]["lines"][0]
    assert Return.objects.count() == 0


def test_an_unknown_sku_is_a_400_on_its_line(api, shipped):
    response = api.post(
        LIST,
        body(shipped, lines=[{"sku": "NOPE", "quantity": 1, "reason": "other"}]),
        format="json",
    )
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]["lines"][0]


def test_an_order_not_shipped_yet_is_a_400(api, tee, paris):
    # given
    order = place([(tee, 1)])
    # when
    response = api.post(LIST, body(order), format="json")
    # then
    assert response.status_code == 400
    assert "not been shipped" in response.json()["errors"]["order"][0]


def test_a_return_after_the_channels_return_days_is_a_400(api, shipped):
    # given: shipped 31 days ago on a channel taking returns for 30
    Fulfilment.objects.filter(order=shipped).update(shipped_at=timezone.now() - timedelta(days=31))
    # when
    late = api.post(LIST, body(shipped), format="json")
    Channel.objects.filter(code="web").update(return_days=60)
    in_time = api.post(LIST, body(shipped), format="json")
    # then
    assert late.status_code == 400
    assert "takes returns for 30 days" in late.json()["errors"]["lines"][0]
    assert in_time.status_code == 201


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"method": "parcel"}, "method"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "TEE-1", "quantity": 0, "reason": "other"}]}, "lines"),
        ({"lines": [{"sku": "TEE-1", "quantity": 1, "reason": "meh"}]}, "lines"),
        ({"resolution": "exchange"}, "exchange_lines"),
        ({"exchange_lines": [{"sku": "MUG-1", "quantity": 1}]}, "exchange_lines"),
        ({"location": "NOWHERE"}, "location"),
        ({"order": "NOSUCHORDER"}, "order"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, shipped, changes, field):
    response = api.post(LIST, body(shipped, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Return.objects.count() == 0


def test_a_return_in_store_goes_to_the_nearest_store(api, shipped):
    # given
    StoreFactory(code="ST-LYON", lat=45.76, lon=4.84)
    StoreFactory(code="ST-RIVOLI", lat=48.86, lon=2.34)
    # when
    response = api.post(LIST, body(shipped, method="store"), format="json")
    # then
    assert response.status_code == 201
    assert response.json()["location"] == "ST-RIVOLI"


def test_a_return_in_store_must_name_a_store(api, shipped, paris):
    response = api.post(LIST, body(shipped, method="store", location="DC-PARIS"), format="json")
    assert response.status_code == 400
    assert "not a store" in response.json()["errors"]["location"][0]


# Read


def test_it_reads_a_return_and_lists_them_by_order_status_and_location(api, shipped, tee):
    # given
    ret = return_of(shipped, [(tee, 1)])
    # when
    one = api.get(act(ret.number, "detail"))
    by_order = api.get(LIST, {"order": shipped.number})
    by_status = api.get(LIST, {"status": "received"})
    by_location = api.get(LIST, {"location": "DC-PARIS"})
    unknown = api.get(reverse("return-detail", args=["RZZZZZZZZZ"]))
    # then
    assert one.status_code == 200 and one.json()["number"] == ret.number
    assert [r["number"] for r in by_order.json()["results"]] == [ret.number]
    assert by_status.json()["results"] == []
    assert by_location.json()["count"] == 1
    assert unknown.status_code == 404


def test_the_list_costs_a_fixed_number_of_queries(
    api, shipped, tee, mug, django_assert_max_num_queries
):
    for _ in range(3):
        return_of(shipped, [(tee, 1)])
    with django_assert_max_num_queries(12):
        response = api.get(LIST)
    assert response.json()["count"] == 3


# Receive


def test_receiving_restocks_through_the_ledger_and_quarantines_damaged(api, shipped, tee, paris):
    # given
    ret = return_of(shipped, [(tee, 3)])
    before = on_hand(tee, paris)
    # when
    response = api.post(
        act(ret.number, "receive"),
        {
            "location": "DC-PARIS",
            "lines": [
                {"sku": "TEE-1", "quantity": 1, "disposition": "restock"},
                {"sku": "TEE-1", "quantity": 1, "disposition": "damaged"},
            ],
        },
        format="json",
    )
    # then
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == "partially_received"
    assert answer["lines"][0]["received"] == 2
    assert answer["lines"][0]["restocked"] == 1
    assert answer["lines"][0]["damaged"] == 1
    stock = StockLevel.objects.get(product=tee, location=paris)
    assert stock.on_hand == before + 1
    assert stock.quarantined == 1
    movement = StockMovement.objects.filter(stock=stock).first()
    assert (movement.kind, movement.quantity, movement.reference) == (
        "return",
        1,
        f"return {ret.number}",
    )
    assert stock_drift() == []
    assert ReturnReceipt.objects.get(return_request=ret).location == paris
    assert OutboxEvent.objects.filter(event="return.received", location=paris).count() == 1


def test_receiving_the_rest_at_a_store_makes_it_received(api, shipped, tee):
    # given: bought online, brought back to a store
    store = StoreFactory(code="ST-RIVOLI")
    ret = return_of(shipped, [(tee, 2)])
    # when
    response = api.post(
        act(ret.number, "receive"),
        {
            "location": "ST-RIVOLI",
            "lines": [{"sku": "TEE-1", "quantity": 2, "disposition": "restock"}],
        },
        format="json",
    )
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert StockLevel.objects.get(product=tee, location=store).on_hand == 2


def test_dispose_leaves_on_hand_unchanged(api, shipped, tee, paris):
    ret = return_of(shipped, [(tee, 1)])
    before = on_hand(tee, paris)
    response = api.post(
        act(ret.number, "receive"),
        {
            "location": "DC-PARIS",
            "lines": [{"sku": "TEE-1", "quantity": 1, "disposition": "dispose"}],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["lines"][0]["disposed"] == 1
    assert on_hand(tee, paris) == before
    assert StockLevel.objects.get(product=tee, location=paris).quarantined == 0


def test_receiving_more_than_the_return_names_is_a_400_and_applies_nothing(
    api, shipped, tee, mug, paris
):
    # given
    ret = return_of(shipped, [(tee, 1), (mug, 1)])
    before = on_hand(tee, paris)
    # when: the first line fits, the second asks too much
    response = api.post(
        act(ret.number, "receive"),
        {
            "location": "DC-PARIS",
            "lines": [
                {"sku": "TEE-1", "quantity": 1, "disposition": "restock"},
                {"sku": "MUG-1", "quantity": 2, "disposition": "restock"},
            ],
        },
        format="json",
    )
    # then
    assert response.status_code == 400
    assert "Line 2 (MUG-1)" in response.json()["errors"]["lines"][0]
    assert on_hand(tee, paris) == before
    assert ReturnReceipt.objects.count() == 0
    ret.refresh_from_db()
    assert ret.status == "requested"


def test_receiving_a_cancelled_return_is_a_409(api, shipped, tee):
    ret = return_of(shipped, [(tee, 1)])
    api.post(act(ret.number, "cancel"), {}, format="json")
    response = api.post(
        act(ret.number, "receive"),
        {
            "location": "DC-PARIS",
            "lines": [{"sku": "TEE-1", "quantity": 1, "disposition": "restock"}],
        },
        format="json",
    )
    assert response.status_code == 409


# Refund


def _receive(api, ret, lines, location="DC-PARIS"):
    response = api.post(
        act(ret.number, "receive"), {"location": location, "lines": lines}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_refund_is_the_received_units_at_the_orders_prices(api, shipped, tee):
    # given: two shirts returned too small (the customer's choice), one received
    ret = return_of(shipped, [(tee, 2)])
    received = _receive(api, ret, [{"sku": "TEE-1", "quantity": 1, "disposition": "restock"}])
    assert received["refund"] == {"amount": "19.90", "currency": "EUR", "status": "due"}
    # when
    response = api.post(act(ret.number, "refund"), {}, format="json")
    again = api.post(act(ret.number, "refund"), {}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "refunded"
    assert response.json()["refund"] == {"amount": "19.90", "currency": "EUR", "status": "refunded"}
    assert again.status_code == 200
    assert Refund.objects.count() == 1
    [event] = OutboxEvent.objects.filter(event="return.refunded")
    assert event.data["refund"]["amount"] == "19.90"
    assert OrderEvent.objects.filter(order=shipped, kind="return_refunded").count() == 1


def test_the_retailers_fault_adds_the_delivery_price_once(api, shipped, tee, mug):
    ret = return_of(shipped, [(tee, 1), (mug, 1)], reason="damaged")
    _receive(
        api,
        ret,
        [
            {"sku": "TEE-1", "quantity": 1, "disposition": "damaged"},
            {"sku": "MUG-1", "quantity": 1, "disposition": "dispose"},
        ],
    )
    response = api.post(act(ret.number, "refund"), {}, format="json")
    # 19.90 + 9.50 + 4.90 delivery
    assert response.json()["refund"]["amount"] == "34.30"


def test_a_manual_amount_is_recorded_with_its_reason(api, shipped, tee):
    ret = return_of(shipped, [(tee, 1)])
    response = api.post(
        act(ret.number, "refund"), {"amount": "5.00", "reason": "goodwill"}, format="json"
    )
    other = api.post(act(ret.number, "refund"), {"amount": "6.00"}, format="json")
    assert response.status_code == 200
    assert response.json()["refund"]["amount"] == "5.00"
    refund = Refund.objects.get()
    assert (refund.reason, str(refund.computed_amount)) == ("goodwill", "0.00")
    assert other.status_code == 409


def test_a_computed_refund_before_anything_is_received_is_a_409(api, shipped, tee):
    ret = return_of(shipped, [(tee, 1)])
    response = api.post(act(ret.number, "refund"), {}, format="json")
    assert response.status_code == 409
    assert Refund.objects.count() == 0


def test_a_negative_amount_is_a_400(api, shipped, tee):
    ret = return_of(shipped, [(tee, 1)])
    response = api.post(act(ret.number, "refund"), {"amount": "-1.00"}, format="json")
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]


# Cancel


def test_cancel_before_receiving_gives_the_units_back_to_return(api, shipped, tee):
    # given
    ret = return_of(shipped, [(tee, 3)])
    # when
    response = api.post(act(ret.number, "cancel"), {}, format="json")
    again = api.post(act(ret.number, "cancel"), {}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert again.status_code == 200
    assert OrderLine.objects.get(order=shipped, product=tee).quantity_returned == 0
    assert api.post(LIST, body(shipped), format="json").status_code == 201


def test_cancel_after_receiving_is_a_409(api, shipped, tee):
    ret = return_of(shipped, [(tee, 2)])
    _receive(api, ret, [{"sku": "TEE-1", "quantity": 1, "disposition": "restock"}])
    response = api.post(act(ret.number, "cancel"), {}, format="json")
    assert response.status_code == 409
    ret.refresh_from_db()
    assert ret.status == "partially_received"


def test_returns_need_a_token(anonymous_api):
    assert anonymous_api.get(LIST).status_code == 401


def test_damaged_units_show_in_quarantine_on_the_stock_page(api, admin_client_logged, shipped, tee):
    # given
    ret = return_of(shipped, [(tee, 2)], reason="damaged")
    _receive(api, ret, [{"sku": "TEE-1", "quantity": 2, "disposition": "damaged"}])
    # when
    response = admin_client_logged.get(reverse("console:product-stock", args=["TEE-1"]))
    # then
    assert response.status_code == 200
    assert response.context["totals"]["quarantined"] == 2
    assert "Quarantine" in response.content.decode()
