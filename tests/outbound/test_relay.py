"""The relay sends committed events to a real HTTP receiver: signed, retried, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fulfilment.models import Fulfilment
from orders.services.fulfilments import fulfilment_ship
from orders.services.lifecycle import order_cancel
from outbox.emit import event_emit
from outbox.models import Delivery, OutboxEvent
from outbox.relay import outbox_relay
from outbox.services import deliveries_replay, deliveries_retry_now
from outbox.signing import signature
from outbox.verify import signature_verify
from tests.orders.helpers import warehouse
from tests.outbound.helpers import SECRET, an_order, subscribed

pytestmark = pytest.mark.django_db
DS = Delivery.Status


def test_it_posts_each_event_signed_with_the_secret_over_the_exact_body(receiver, api):
    # given
    subscribed(receiver.url)
    order = an_order()

    # when
    done = outbox_relay()

    # then
    assert done.delivered == 2
    created, requested = receiver.events("order.created"), receiver.events("fulfilment.requested")
    assert len(created) == len(requested) == 1
    for received in receiver.received:
        assert received.headers["X-OMS-Signature"] == signature(received.body, SECRET)
        assert signature_verify(received.body, received.headers, SECRET)
        assert not signature_verify(received.body, received.headers, "another-secret")
        assert set(received.json) == {"id", "event", "created_at", "data"}
        assert received.event_id == received.json["id"]
    assert created[0].json["data"]["number"] == order.number
    # the fulfilment as the fulfilments endpoint shows it
    fulfilment = order.fulfilments.get()
    shown = api.get(reverse("fulfilment-detail", args=[fulfilment.pk])).json()
    assert requested[0].json["data"] == shown
    assert requested[0].json["data"]["order"] == order.number
    assert requested[0].json["data"]["location"] == "DC-PARIS"
    assert Delivery.objects.filter(status=DS.DELIVERED).count() == 2
    assert not Delivery.objects.exclude(last_status_code=200).exists()


def test_a_receiver_down_then_up_gets_the_event_on_a_later_try_with_the_same_id(receiver):
    # given: the receiver is down when the event is sent
    subscribed(receiver.url, events=["order.created"])
    an_order()
    receiver.stop()
    now = timezone.now()
    first = outbox_relay(now=now)
    delivery = Delivery.objects.get()
    assert (first.failed, delivery.status, delivery.attempts) == (1, DS.FAILED, 1)
    assert "Error" in delivery.last_error and delivery.last_status_code is None
    assert delivery.next_try_at > now

    # when: it is back, and the next try falls due
    receiver.start()
    assert outbox_relay(now=delivery.next_try_at - timedelta(seconds=1)).delivered == 0
    later = outbox_relay(now=delivery.next_try_at)

    # then
    delivery.refresh_from_db()
    assert later.delivered == 1
    assert (delivery.status, delivery.attempts) == (DS.DELIVERED, 2)
    assert [r.event_id for r in receiver.received] == [str(delivery.event.uid)]
    assert receiver.received[0].headers["X-OMS-Delivery-Attempt"] == "2"


def test_a_receiver_answering_500_is_retried_with_growing_delays_then_dead_at_the_horizon(
    receiver, settings
):
    # given
    settings.OMS_WEBHOOK_HORIZON_HOURS = 24
    receiver.status = 500
    subscribed(receiver.url, events=["order.created"])
    an_order()
    now = timezone.now()

    # when: every try falls due and fails, the clock moved on by the test, not slept
    delays = []
    for _ in range(100):
        outbox_relay(now=now)
        delivery = Delivery.objects.get()
        if delivery.status == DS.DEAD:
            break
        delays.append((delivery.next_try_at - now).total_seconds())
        now = delivery.next_try_at

    # then
    assert delivery.status == DS.DEAD
    assert delivery.last_status_code == 500
    assert delivery.last_response == "receiver exploded"
    assert now >= delivery.horizon_at == delivery.event.created_at + timedelta(hours=24)
    assert 10 < delivery.attempts < 60
    assert delays[0] <= 10 and delays[3] > delays[0] * 3  # exponential, with jitter
    assert max(delays) <= 3600
    assert len({r.event_id for r in receiver.received}) == 1
    assert len(receiver.received) == delivery.attempts


def test_a_replay_sends_the_same_event_id_again(receiver):
    # given
    subscribed(receiver.url, events=["order.created"])
    an_order()
    outbox_relay()
    delivery = Delivery.objects.get()

    # when
    assert deliveries_replay(ids=[delivery.pk]) == 1
    outbox_relay()

    # then
    first, again = receiver.received
    assert first.event_id == again.event_id
    assert first.body == again.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DS.DELIVERED, 2)


def test_retry_now_brings_a_dead_delivery_back(receiver):
    # given: dead after the receiver failed
    subscribed(receiver.url, events=["order.created"])
    an_order()
    receiver.status = 503
    outbox_relay()
    Delivery.objects.update(status=DS.DEAD)

    # when
    receiver.status = 200
    assert deliveries_retry_now(ids=Delivery.objects.values_list("id", flat=True)) == 1
    outbox_relay()

    # then
    assert Delivery.objects.get().status == DS.DELIVERED
    assert [r.headers["X-OMS-Delivery-Attempt"] for r in receiver.received] == ["1", "2"]


def test_a_location_subscription_gets_only_its_own_fulfilment_events(receiver):
    # given: two warehouses, each with an order; the subscriber is the Lyon 3PL
    paris, lyon = warehouse("DC-PARIS"), warehouse("DC-LYON", lat=45.76, lon=4.84)
    subscribed(receiver.url, events=["fulfilment.requested", "order.created"], location=lyon)
    an_order("TEE-P", location=paris)
    lyon_order = an_order("TEE-L", location=lyon)

    # when
    outbox_relay()

    # then: Lyon's request only; no order event, which is about no single location
    requested = receiver.events("fulfilment.requested")
    assert [r.json["data"]["location"] for r in requested] == ["DC-LYON"]
    assert requested[0].json["data"]["order"] == lyon_order.number
    assert receiver.events("order.created") == []


def test_a_fulfilments_later_event_waits_until_the_earlier_one_is_delivered(receiver):
    # given: requested, then cancelled, while the receiver fails
    subscribed(receiver.url, events=["fulfilment.requested", "fulfilment.cancelled"])
    order = an_order()
    order_cancel(order=order, reason="customer changed their mind")
    receiver.status = 500
    now = timezone.now()

    # when
    outbox_relay(now=now)

    # then: only the request was tried; the cancellation waits behind it
    assert [r.json["event"] for r in receiver.received] == ["fulfilment.requested"]
    assert Delivery.objects.filter(event__event="fulfilment.cancelled").get().attempts == 0

    # when: the receiver is back and the retry falls due
    receiver.status = 200
    outbox_relay(now=now + timedelta(hours=2))

    # then: in order
    assert [r.json["event"] for r in receiver.received] == [
        "fulfilment.requested",
        "fulfilment.requested",
        "fulfilment.cancelled",
    ]
    cancelled = receiver.events("fulfilment.cancelled")[0].json["data"]
    assert (cancelled["status"], cancelled["order"]) == ("cancelled", order.number)


def test_shipping_the_last_parcel_sends_fulfilment_and_order_shipped(receiver):
    # given
    subscribed(receiver.url, events=["fulfilment.shipped", "order.shipped"])
    order = an_order()
    fulfilment = order.fulfilments.get()

    # when
    fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="DHL", tracking_number="JD0001")
    outbox_relay()

    # then
    shipped = receiver.events("fulfilment.shipped")[0].json["data"]
    assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "JD0001")
    assert receiver.events("order.shipped")[0].json["data"]["status"] == "shipped"


def test_an_event_exists_only_if_its_transaction_committed():
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit(event="stock.low", data={"sku": "TEE-1"}, key="x")
        raise RuntimeError("the change failed")

    # then
    assert not OutboxEvent.objects.exists()


def test_an_event_no_subscription_wants_is_relayed_to_nobody(receiver):
    # given
    subscribed(receiver.url, events=["stock.low"])
    an_order()

    # when
    done = outbox_relay()

    # then
    assert (done.fanned_out, done.delivered) == (2, 0)
    assert not OutboxEvent.objects.filter(fanned_out=False).exists()
    assert receiver.received == []


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        event_emit(event="order.exploded", data={})


def test_a_cancelled_order_sends_order_cancelled(receiver):
    # given
    subscribed(receiver.url, events=["order.cancelled"])
    order = an_order()

    # when
    order_cancel(order=order)
    outbox_relay()

    # then
    (received,) = receiver.received
    assert received.json["data"]["number"] == order.number
    assert received.json["data"]["status"] == "cancelled"
    assert Fulfilment.objects.get().status == "cancelled"
