"""Click & collect with a transfer: the pickup store lacks an item, the channel allows a
transfer, so capture requests a real one to the store; the order is ready for pickup only
once the transfer is received and its units allocated at the store."""

import pytest
from django.urls import reverse

from fulfilment.models import Fulfilment, RejectReason
from inventory.models import Allocation, StockLevel
from inventory.reconcile import stock_drift
from orders.models import Order
from orders.services.fulfilments import fulfilment_reject_lines
from orders.services.lifecycle import backorders_allocate
from outbox.models import OutboxEvent
from supply.models import Transfer, TransferForOrder
from tests.delivery.test_pickup_and_orders import ORDERS, pickup
from tests.orders.helpers import stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def by_transfer(net):
    """The web channel allows transfers to the pickup store; only the warehouses send."""
    net["web"].pickup_transfer = True
    net["web"].save(update_fields=["pickup_transfer"])
    net["rivoli"].ships = False
    net["rivoli"].save(update_fields=["ships"])
    return net


def _stock(net, sku: str, code: str) -> StockLevel:
    return StockLevel.objects.get(product__sku=sku, location__code=code)


def _capture(api, external_id: str = "W-1", lines=(("TEE", 1), ("MUG", 1))) -> Order:
    response = api.post(
        ORDERS, pickup(list(lines), store="ST-LYON", external_id=external_id), format="json"
    )
    assert response.status_code == 201, response.content
    return Order.objects.get(number=response.json()["number"])


def _post(api, name: str, **kwargs):
    return api.post(reverse(name, kwargs=kwargs), format="json")


def _store_request(order: Order) -> Fulfilment:
    return order.fulfilments.get(location__code="ST-LYON", status="requested")


def test_capture_requests_a_transfer_from_the_cheapest_source_and_dates_the_order_after_it(
    api, by_transfer
):
    # when: the Lyon store has tees but no mugs; the Lyon warehouse has mugs
    order = _capture(api)
    # then: a real transfer holds the mug at the warehouse, for this order
    transfer = Transfer.objects.get(order=order)
    assert (transfer.source.code, transfer.destination.code, transfer.status) == (
        "DC-LYON",
        "ST-LYON",
        "requested",
    )
    assert [(line.product.sku, line.quantity) for line in transfer.lines.all()] == [("MUG", 1)]
    assert TransferForOrder.objects.get(transfer_line__transfer=transfer).quantity == 1
    assert _stock(by_transfer, "MUG", "DC-LYON").allocated == 1
    # the tee is allocated at the store, the mug counts as held: the order is allocated
    assert order.status == Order.Status.ALLOCATED
    held = [(a.order_line.product.sku, a.stock.location.code) for a in Allocation.objects.all()]
    assert held == [("TEE", "ST-LYON")]
    # the timeline and the events tell it
    note = order.events.get(data__has_key="transfer")
    assert note.data["transfer"] == transfer.number and note.public
    assert "being brought to Lyon" in note.message
    assert OutboxEvent.objects.filter(event="transfer.requested").count() == 1
    # and the promise includes the transfer's time
    alone = _capture(api, external_id="W-2", lines=(("TEE", 1),))
    assert order.promised_date > alone.promised_date


def test_the_order_goes_from_capture_to_collection_through_the_transfer(api, by_transfer):
    # given
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    request = _store_request(order)
    # when: the store tries to make the parcel ready before the mug has come
    early = _post(api, "fulfilment-ready", pk=request.pk)
    # then: refused, nothing changed
    assert early.status_code == 409, early.content
    assert "on their way to the store by transfer" in early.json()["errors"]["status"][0]
    request.refresh_from_db()
    assert request.status == "requested"
    # when: the warehouse ships the transfer; the store still cannot make it ready
    assert _post(api, "transfer-ship", transfer_number=transfer.number).status_code == 200
    assert _stock(by_transfer, "MUG", "ST-LYON").in_transit == 1
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 409
    assert _post(api, "fulfilment-collected", pk=request.pk).status_code == 409
    order.refresh_from_db()
    assert order.events.filter(data__has_key="shipped").exists()
    # when: the store receives it
    received = api.post(
        reverse("transfer-receive", kwargs={"transfer_number": transfer.number}),
        {"lines": [{"sku": "MUG", "quantity": 1}]},
        format="json",
    )
    assert received.status_code == 200, received.content
    # then: the mug is allocated to the order at the store, in the store's request
    answer = api.get(reverse("order-detail", kwargs={"number": order.number})).json()
    assert sorted((a["sku"], a["location"]) for a in answer["allocations"]) == [
        ("MUG", "ST-LYON"),
        ("TEE", "ST-LYON"),
    ]
    mug = _stock(by_transfer, "MUG", "ST-LYON")
    assert (mug.on_hand, mug.allocated, mug.in_transit) == (1, 1, 0)
    assert order.fulfilments.count() == 1
    assert order.events.filter(data__has_key="transfer", kind="allocated").exists()
    # when: ready, then collected
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.READY_FOR_PICKUP
    assert _post(api, "fulfilment-collected", pk=request.pk).status_code == 200
    # then
    order.refresh_from_db()
    assert order.status == Order.Status.COLLECTED
    mug.refresh_from_db()
    assert (mug.on_hand, mug.allocated) == (0, 0)
    assert _stock(by_transfer, "MUG", "DC-LYON").on_hand == 9
    assert stock_drift() == []


def test_a_basket_wholly_brought_by_transfer_gets_a_store_request_on_receipt(api, by_transfer):
    # given: nothing of the basket at the store
    order = _capture(api, lines=(("MUG", 2),))
    transfer = Transfer.objects.get(order=order)
    assert not order.fulfilments.exists()
    assert order.status == Order.Status.ALLOCATED
    # when
    _post(api, "transfer-ship", transfer_number=transfer.number)
    api.post(
        reverse("transfer-receive", kwargs={"transfer_number": transfer.number}),
        {"lines": [{"sku": "MUG", "quantity": 2}]},
        format="json",
    )
    # then: the store is asked to prepare the order, and it can be made ready
    request = _store_request(order)
    assert OutboxEvent.objects.filter(event="fulfilment.requested", data__id=request.pk).exists()
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 200


def test_cancelling_the_order_before_the_transfer_ships_cancels_the_transfer(api, by_transfer):
    # given
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    # when
    assert _post(api, "order-cancel", number=order.number).status_code == 200
    # then: the mug is free again at the warehouse
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    assert _stock(by_transfer, "MUG", "DC-LYON").allocated == 0
    assert OutboxEvent.objects.filter(event="transfer.cancelled").count() == 1
    assert stock_drift() == []


def test_a_shipped_transfer_of_a_cancelled_order_becomes_store_stock(api, by_transfer):
    # given: the transfer has left when the customer cancels
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    _post(api, "transfer-ship", transfer_number=transfer.number)
    assert _post(api, "order-cancel", number=order.number).status_code == 200
    transfer.refresh_from_db()
    assert transfer.status == "shipped"
    # when: the store receives it
    received = api.post(
        reverse("transfer-receive", kwargs={"transfer_number": transfer.number}),
        {"lines": [{"sku": "MUG", "quantity": 1}]},
        format="json",
    )
    # then: the mug is the store's, free to sell
    assert received.status_code == 200
    mug = _stock(by_transfer, "MUG", "ST-LYON")
    assert (mug.on_hand, mug.allocated) == (1, 0)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock_drift() == []


def test_cancelling_the_transfer_leaves_the_order_waiting_at_the_store(api, by_transfer):
    # given
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    # when
    assert _post(api, "transfer-cancel", transfer_number=transfer.number).status_code == 200
    # then: the tee stays allocated, the mug is a backorder at the store, and it is said
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_ALLOCATED
    assert order.events.filter(message__contains="was cancelled").exists()
    assert _stock(by_transfer, "MUG", "DC-LYON").allocated == 0


def test_a_short_receipt_leaves_the_missing_units_waiting_at_the_store(api, by_transfer):
    # given: two mugs on their way
    order = _capture(api, lines=(("MUG", 2),))
    transfer = Transfer.objects.get(order=order)
    _post(api, "transfer-ship", transfer_number=transfer.number)
    # when: one arrives
    api.post(
        reverse("transfer-receive", kwargs={"transfer_number": transfer.number}),
        {"lines": [{"sku": "MUG", "quantity": 1}]},
        format="json",
    )
    # then: one allocated at the store, one waits; the parcel is not ready yet
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_ALLOCATED
    assert _stock(by_transfer, "MUG", "ST-LYON").allocated == 1
    # when: the missing mug turns up on the closed transfer
    late = api.post(
        reverse("transfer-receive", kwargs={"transfer_number": transfer.number}),
        {"lines": [{"sku": "MUG", "quantity": 1}]},
        format="json",
    )
    # then: it goes to the order
    assert late.status_code == 200, late.content
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert _stock(by_transfer, "MUG", "ST-LYON").allocated == 2


def test_the_store_sees_the_transfer_coming_in_its_supply_queue(
    admin_client_logged, api, by_transfer
):
    # given
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    # when
    response = admin_client_logged.get(
        reverse("supply_console:queues") + "?location=ST-LYON&tab=for-pickups"
    )
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="transfer-{transfer.number}"' in html
    assert order.number in html


def test_the_admin_finds_an_order_s_transfer_by_the_order_number(
    admin_client_logged, api, by_transfer
):
    # given
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    # when
    found = admin_client_logged.get(
        reverse("admin:supply_transfer_changelist") + f"?q={order.number}"
    )
    page = admin_client_logged.get(reverse("admin:supply_transfer_change", args=[transfer.pk]))
    # then
    assert [t.number for t in found.context["cl"].result_list] == [transfer.number]
    assert page.status_code == 200
    assert order.number in page.content.decode()


def _reject(api, request: Fulfilment, reason_code: str = "out_of_stock"):
    return api.post(
        reverse("fulfilment-reject", kwargs={"pk": request.pk}),
        {"reason": "shelf empty", "reason_code": reason_code},
        format="json",
    )


def _receive(api, transfer: Transfer, sku: str, units: int):
    assert _post(api, "transfer-ship", transfer_number=transfer.number).status_code == 200
    received = api.post(
        reverse("transfer-receive", kwargs={"transfer_number": transfer.number}),
        {"lines": [{"sku": sku, "quantity": units}]},
        format="json",
    )
    assert received.status_code == 200, received.content


def test_a_store_rejecting_its_units_gets_them_by_transfer_from_a_warehouse(api, by_transfer):
    # given: the tee from the store's shelf, the mug by transfer from DC-LYON
    order = _capture(api)
    mug_transfer = Transfer.objects.get(order=order)
    # when: the store finds no tee on its shelf
    assert _reject(api, _store_request(order)).status_code == 200
    # then: the tee is brought from DC-PARIS by a transfer of its own; the mug's carries on
    tee_transfer = Transfer.objects.get(order=order, source__code="DC-PARIS")
    assert (tee_transfer.destination.code, tee_transfer.status) == ("ST-LYON", "requested")
    assert [(line.product.sku, line.quantity) for line in tee_transfer.lines.all()] == [("TEE", 1)]
    mug_transfer.refresh_from_db()
    assert mug_transfer.status == "requested"
    assert _stock(by_transfer, "TEE", "DC-PARIS").allocated == 1
    tee = _stock(by_transfer, "TEE", "ST-LYON")
    assert (tee.on_hand, tee.allocated) == (1, 0)  # the missing tee written off
    # the order counts both units as held, and says the tee is on its way
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert order.events.filter(data__transfer=tee_transfer.number, public=True).exists()
    assert OutboxEvent.objects.filter(event="transfer.requested").count() == 2
    # when: the mug arrives first
    _receive(api, mug_transfer, "MUG", 1)
    request = _store_request(order)
    # then: the order is not ready while the tee is on its way
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 409
    # when: the tee arrives
    _receive(api, tee_transfer, "TEE", 1)
    # then: both are set aside in the store's one request, and the order can be collected
    assert sorted(a.order_line.product.sku for a in request.allocations.open()) == ["MUG", "TEE"]
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 200
    assert _post(api, "fulfilment-collected", pk=request.pk).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.COLLECTED
    assert stock_drift() == []


def test_the_day_a_rejected_pickup_is_ready_moves_with_its_new_transfer(api, by_transfer):
    # given: a tee ready at the store the day it is ordered
    order = _capture(api, lines=(("TEE", 1),))
    ready = order.promised_date
    # when: the store rejects it
    _reject(api, _store_request(order))
    # then: the tee comes from DC-PARIS, and the order is ready later; the customer is told
    order.refresh_from_db()
    assert Transfer.objects.get(order=order).source.code == "DC-PARIS"
    assert order.promised_date > ready
    moved = order.events.get(data__has_key="promise_changed")
    assert moved.public
    assert moved.data["promise_changed"]["from"] == ready.isoformat()
    assert moved.data["promise_changed"]["to"] == order.promised_date.isoformat()
    assert OutboxEvent.objects.filter(event="order.promise_changed").count() == 1


def test_a_store_refusing_some_units_gets_those_by_transfer(api, by_transfer):
    # given: two tees from the store's shelf
    order = _capture(api, lines=(("TEE", 2),))
    request = _store_request(order)
    line = order.lines.get()
    # when: one is damaged
    fulfilment_reject_lines(
        fulfilment_id=request.pk,
        units_by_line={line.pk: 1},
        reason="torn",
        reason_code=RejectReason.DAMAGED,
    )
    # then: the store keeps one, the other comes by transfer
    transfer = Transfer.objects.get(order=order)
    assert (transfer.source.code, transfer.lines.get().quantity) == ("DC-PARIS", 1)
    assert TransferForOrder.objects.get(transfer_line__transfer=transfer).order_line == line
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert stock_drift() == []


def test_a_source_cancelling_its_transfer_is_replaced_by_another_source(api, by_transfer):
    # given: mugs at both warehouses; the mug comes from one of them
    stocked(by_transfer["mug"], by_transfer["dc_paris"], 5)
    order = _capture(api)
    first = Transfer.objects.get(order=order)
    (other,) = {"DC-LYON", "DC-PARIS"} - {first.source.code}
    # when: that warehouse cannot send it
    assert _post(api, "transfer-cancel", transfer_number=first.number).status_code == 200
    # then: the other sends it instead; the first one's mug is free again
    second = Transfer.objects.get(order=order, status="requested")
    assert (second.source.code, second.destination.code) == (other, "ST-LYON")
    assert _stock(by_transfer, "MUG", first.source.code).allocated == 0
    assert _stock(by_transfer, "MUG", other).allocated == 1
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert order.events.filter(message__contains="sourced again").exists()
    # and the order is not ready until the mug is received
    request = _store_request(order)
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 409
    _receive(api, second, "MUG", 1)
    assert _post(api, "fulfilment-ready", pk=request.pk).status_code == 200
    assert stock_drift() == []


def test_a_source_that_cancelled_is_not_asked_again_when_stock_arrives(api, by_transfer):
    # given: the mug's transfer from DC-LYON was cancelled, no other source has mugs
    order = _capture(api)
    transfer = Transfer.objects.get(order=order)
    _post(api, "transfer-cancel", transfer_number=transfer.number)
    # when: the backorder sweep runs
    backorders_allocate()
    # then: no new transfer from the source that refused
    assert not Transfer.objects.filter(order=order, status="requested").exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_ALLOCATED
