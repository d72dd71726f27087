"""Several relay runs at once on PostgreSQL: every event sent once, in order per key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from outbox.emit import Draft, events_emit
from outbox.models import Delivery
from outbox.relay import outbox_relay
from tests.outbound.helpers import subscribed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_relay_runs_in_parallel_threads_send_each_event_once_and_in_key_order(receiver):
    # given: 300 events over 30 keys, written in 10 transactions
    subscribed(receiver.url, events=["stock.low"])
    for batch in range(10):
        with transaction.atomic():
            events_emit(
                drafts=[Draft("stock.low", {"n": batch * 30 + i}, None, f"k{i}") for i in range(30)]
            )

    # when: four relay runs at once
    def run():
        try:
            outbox_relay()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    outbox_relay()

    # then
    numbers = [r.json["data"]["n"] for r in receiver.received]
    assert sorted(numbers) == list(range(300))  # each once
    for key in range(30):
        of_key = [n for n in numbers if n % 30 == key]
        assert of_key == sorted(of_key)  # in order per key
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 300
