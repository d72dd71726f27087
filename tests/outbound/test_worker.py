"""With real Celery workers: events wait out a broker outage, and outlive a killed worker."""

from __future__ import annotations

import pytest

from fulfilment.models import Fulfilment
from oms.celery import app
from outbox.models import Delivery, OutboxEvent
from tests.orders.helpers import product, stocked, warehouse
from tests.outbound.helpers import subscribed
from tests.outbound.workers import worker_kill, worker_queue, worker_start, worker_stop
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
RELAY = "outbox.tasks.outbox_relay_task"
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def order_payload(external_id: str) -> dict:
    return {
        "channel": "web",
        "external_id": external_id,
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.86,
            "lon": 2.34,
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "19.90"}],
    }


def use_broker(url: str) -> None:
    """Point this process's task messages at `url` (its cached connections dropped)."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The broker cannot be reached from this process until `back()` is called."""
    original = app.conf.broker_url

    class Outage:
        @staticmethod
        def back():
            use_broker(original)

    use_broker(CLOSED_PORT_BROKER)
    try:
        yield Outage
    finally:
        use_broker(original)


def test_orders_taken_while_the_broker_is_down_are_sent_once_it_is_back(
    api, receiver, tmp_path, broker_down
):
    # given: a 3PL subscribed, and stock
    subscribed(receiver.url, events=["order.created", "fulfilment.requested"])
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 10)
    with worker_queue() as queue:
        worker = worker_start(queue, tmp_path / "worker.log")
        try:
            # when: orders arrive while no task message can be sent
            answers = [
                api.post("/api/v1/orders/", order_payload(f"W-{i}"), format="json")
                for i in range(3)
            ]

            # then: the orders are taken, and their events wait in the outbox
            assert [a.status_code for a in answers] == [201, 201, 201], answers[0].content
            assert OutboxEvent.objects.filter(fanned_out=False).count() == 6
            assert receiver.received == []

            # when: the broker is back and the periodic sweep fires, as beat does
            broker_down.back()
            assert app.conf.beat_schedule["outbox-relay-sweep"]["task"] == RELAY
            app.send_task(RELAY)

            # then: a real worker delivers every event
            wait_for(lambda: len(receiver.received) == 6, timeout=30)
        finally:
            worker_stop(worker)
    numbers = {a.json()["number"] for a in answers}
    assert {r.json["data"]["number"] for r in receiver.events("order.created")} == numbers
    assert {r.json["data"]["order"] for r in receiver.events("fulfilment.requested")} == numbers
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 6


def test_a_delivery_cut_short_by_a_killed_worker_is_sent_again(api, receiver, tmp_path):
    # given: a receiver that keeps the request waiting, and workers whose claims last 1 s
    receiver.hold.clear()
    subscribed(receiver.url, events=["order.created"])
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 10)
    with worker_queue() as queue:
        first = worker_start(queue, tmp_path / "first.log", OMS_WEBHOOK_CLAIM_SECONDS="1")
        try:
            # when: an order is taken; its commit wakes the relay on the worker
            assert (
                api.post("/api/v1/orders/", order_payload("W-1"), format="json").status_code == 201
            )
            assert receiver.arrived.wait(30)
            # ... which is killed while the receiver holds the request
            worker_kill(first)
        finally:
            worker_stop(first)
        receiver.hold.set()
        delivery = Delivery.objects.get()
        assert delivery.status == Delivery.Status.PENDING
        assert delivery.claimed_until is not None

        # when: another worker runs the sweep after the claim ran out
        second = worker_start(queue, tmp_path / "second.log", OMS_WEBHOOK_CLAIM_SECONDS="1")
        try:
            app.send_task(RELAY)
            wait_for(
                lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).exists(),
                timeout=30,
            )
        finally:
            worker_stop(second)

    # then: sent again, with the same id; the receiver drops the copy
    first_try, second_try = receiver.received
    assert first_try.event_id == second_try.event_id == str(delivery.event.uid)
    assert first_try.body == second_try.body
    assert Fulfilment.objects.count() == 1
