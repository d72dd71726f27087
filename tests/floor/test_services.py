"""The shop floor's services: refusing some units of a request, the pickup code at the
counter, and collection by someone else."""

import pytest
from django.core import mail

from core.exceptions import DomainError
from fulfilment.models import Fulfilment
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from orders.models import Order
from orders.services.fulfilments import (
    RejectReason,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject_lines,
)
from orders.services.pickup import (
    PICKUP_CODE_ALPHABET,
    PICKUP_CODE_LENGTH,
    WrongPickupCode,
    pickup_ready_notify,
)
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def _stock(sku, location):
    return StockLevel.objects.get(product=sku, location=location)


@pytest.fixture
def two_warehouses():
    tee, mug = product("TEE"), product("MUG")
    near = warehouse("DC-NEAR", shipment_cost="1.00")
    far = warehouse("DC-FAR", shipment_cost="9.00")
    for sku in (tee, mug):
        stocked(sku, near, 10)
        stocked(sku, far, 10)
    return {"tee": tee, "mug": mug, "near": near, "far": far}


def test_refusing_damaged_units_of_one_line_writes_them_off_and_sources_only_them(two_warehouses):
    # given: 4 tees and 1 mug from the near warehouse
    net = two_warehouses
    order = place([(net["tee"], 4), (net["mug"], 1)])
    request = order.fulfilments.get()
    assert request.location == net["near"]
    tee_line = order.lines.get(product=net["tee"])
    # when: one tee box is damaged
    fulfilment_reject_lines(
        fulfilment_id=request.pk,
        units_by_line={tee_line.pk: 1},
        reason="box crushed",
        reason_code=RejectReason.DAMAGED,
    )
    # then: the request keeps 3 tees and the mug; 1 tee comes from the far warehouse
    request.refresh_from_db()
    assert request.status == Fulfilment.Status.REQUESTED
    kept = {(a.order_line.product.sku, a.quantity) for a in request.allocations.open()}
    assert kept == {("TEE", 3), ("MUG", 1)}
    moved = order.fulfilments.get(location=net["far"])
    assert [(a.order_line.product.sku, a.quantity) for a in moved.allocations.open()] == [
        ("TEE", 1)
    ]
    near_tee = _stock(net["tee"], net["near"])
    assert (near_tee.on_hand, near_tee.allocated) == (9, 3)
    write_off = StockMovement.objects.get(kind=StockMovement.Kind.DAMAGE)
    assert (write_off.quantity, write_off.stock_id) == (-1, near_tee.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert order.events.get(kind="fulfilment_rejected").data["lines"] == [
        {"sku": "TEE", "quantity": 1}
    ]
    assert stock_drift() == []


def test_refusing_every_unit_is_a_whole_rejection(two_warehouses):
    # given
    net = two_warehouses
    order = place([(net["tee"], 2)])
    request = order.fulfilments.get()
    line = order.lines.get()
    # when
    fulfilment_reject_lines(
        fulfilment_id=request.pk,
        units_by_line={line.pk: 2},
        reason="no staff",
        reason_code=RejectReason.NO_CAPACITY,
    )
    # then
    request.refresh_from_db()
    assert request.status == Fulfilment.Status.REJECTED
    assert order.fulfilments.get(status="requested").location == net["far"]
    assert not StockMovement.objects.filter(kind__in=["damage", "adjustment"]).exists()
    assert stock_drift() == []


@pytest.mark.parametrize(
    ("units", "reason", "field"),
    [(5, "too many", "lines"), (-1, "negative", "lines"), (1, "  ", "reason"), (0, "x", "lines")],
)
def test_a_bad_line_refusal_names_the_field_and_changes_nothing(
    two_warehouses, units, reason, field
):
    # given
    net = two_warehouses
    order = place([(net["tee"], 4)])
    request = order.fulfilments.get()
    line = order.lines.get()
    # when
    with pytest.raises(DomainError) as error:
        fulfilment_reject_lines(
            fulfilment_id=request.pk,
            units_by_line={line.pk: units},
            reason=reason,
            reason_code=RejectReason.DAMAGED,
        )
    # then
    assert error.value.field == field
    assert _stock(net["tee"], net["near"]).allocated == 4
    assert not StockMovement.objects.filter(kind="damage").exists()
    assert order.fulfilments.count() == 1


def test_a_line_of_another_request_cannot_be_refused(two_warehouses):
    net = two_warehouses
    order = place([(net["tee"], 1)])
    other = place([(net["mug"], 1)], email="b@example.com")
    with pytest.raises(DomainError) as error:
        fulfilment_reject_lines(
            fulfilment_id=order.fulfilments.get().pk,
            units_by_line={other.lines.get().pk: 1},
            reason="x",
        )
    assert error.value.field == "lines"


@pytest.fixture
def pickup():
    tee = product("TEE")
    store = StoreFactory(code="ST-OPERA", name="Opéra", click_and_collect=True)
    stocked(tee, store, 3)
    order = place([(tee, 1)], delivery_method="click_and_collect", pickup_location=store)
    request = order.fulfilments.get()
    fulfilment_ready(fulfilment_id=request.pk)
    order.refresh_from_db()
    return {"tee": tee, "store": store, "order": order, "request": request}


def test_ready_for_pickup_gives_a_short_code_from_an_unambiguous_alphabet(pickup):
    code = pickup["order"].pickup_code
    assert len(code) == PICKUP_CODE_LENGTH
    assert set(code) <= set(PICKUP_CODE_ALPHABET)
    assert not set("01OIL") & set(code)


def test_two_orders_get_different_codes():
    tee = product("TEE")
    store = StoreFactory(code="ST-1", click_and_collect=True)
    stocked(tee, store, 50)
    codes = set()
    for i in range(20):
        order = place(
            [(tee, 1)],
            email=f"c{i}@example.com",
            delivery_method="click_and_collect",
            pickup_location=store,
        )
        fulfilment_ready(fulfilment_id=order.fulfilments.get().pk)
        order.refresh_from_db()
        codes.add(order.pickup_code)
    assert len(codes) == 20


def test_the_ready_email_carries_the_pickup_code(pickup):
    assert pickup_ready_notify(order_id=pickup["order"].pk) is True
    sent = mail.outbox[0]
    assert pickup["order"].pickup_code in sent.body
    assert pickup["order"].pickup_code in sent.alternatives[0][0]


def test_a_wrong_code_hands_nothing_over(pickup):
    # when
    with pytest.raises(WrongPickupCode) as error:
        fulfilment_collect(fulfilment_id=pickup["request"].pk, pickup_code="AAAAAA")
    # then
    assert error.value.field == "pickup_code"
    pickup["order"].refresh_from_db()
    assert pickup["order"].status == Order.Status.READY_FOR_PICKUP
    assert _stock(pickup["tee"], pickup["store"]).on_hand == 3


def test_the_code_typed_in_small_letters_with_spaces_and_collection_by_someone_else(pickup):
    # given
    code = pickup["order"].pickup_code
    typed = f" {code[:3].lower()} {code[3:]} "
    # when
    fulfilment_collect(
        fulfilment_id=pickup["request"].pk, pickup_code=typed, collected_by="Charles Babbage"
    )
    # then
    request = Fulfilment.objects.get(pk=pickup["request"].pk)
    assert (request.status, request.collected_by) == ("collected", "Charles Babbage")
    event = pickup["order"].events.get(kind="collected")
    assert event.data["collected_by"] == "Charles Babbage"
    assert event.data["pickup_code_checked"] is True
    assert "Charles Babbage" in event.message
    stock = _stock(pickup["tee"], pickup["store"])
    assert (stock.on_hand, stock.allocated) == (2, 0)
    assert stock_drift() == []


def test_the_tracking_page_shows_the_code_once_ready(client, pickup):
    from django.conf import settings

    from orders.tracking.links import tracking_url

    url = tracking_url(pickup["order"]).replace(settings.OMS_PUBLIC_URL, "")
    response = client.get(url)
    assert response.status_code == 200
    assert pickup["order"].pickup_code in response.content.decode()
