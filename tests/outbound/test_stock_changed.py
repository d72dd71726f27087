"""stock.changed: committed ledger rows become one event per location, each told once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import StockMovement
from inventory.stock_changes import GAP_WAIT, stock_changes_emit
from outbox.models import OutboxCursor, OutboxEvent
from outbox.relay import outbox_relay
from tests.orders.helpers import product, stocked, warehouse
from tests.outbound.helpers import subscribed

pytestmark = pytest.mark.django_db


def test_movements_become_one_event_per_location_sent_to_that_locations_subscriber(receiver):
    # given: the cursor starts at the end of the ledger
    paris, lyon = warehouse("DC-PARIS"), warehouse("DC-LYON")
    stocked(product("OLD-1"), paris, 1)
    assert stock_changes_emit() == 0
    subscribed(receiver.url, events=["stock.changed"], location=lyon)
    tee, mug = product("TEE-1"), product("MUG-1")

    # when: three movements at Lyon, one at Paris
    stocked(tee, lyon, 5)
    stocked(tee, lyon, 2)
    stocked(mug, lyon, 1)
    stocked(tee, paris, 4)
    written = stock_changes_emit()
    outbox_relay()

    # then
    assert written == 2
    (received,) = receiver.received
    data = received.json["data"]
    assert (data["location"], data["movements"]) == ("DC-LYON", 3)
    assert data["skus"] == [
        {"sku": "TEE-1", "change": 7, "on_hand": 7},
        {"sku": "MUG-1", "change": 1, "on_hand": 1},
    ]
    assert stock_changes_emit() == 0  # nothing told twice


def test_the_cursor_waits_at_a_missing_id_then_steps_over_it():
    # given: a movement id is missing (a transaction still running, or rolled back)
    paris = warehouse("DC-PARIS")
    stock_changes_emit()
    stocked(product("TEE-1"), paris, 5)
    movement = StockMovement.objects.get()
    OutboxCursor.objects.update(position=movement.pk - 2)  # id movement.pk - 1: never seen
    now = timezone.now()

    # when / then: it waits while the gap is young
    assert stock_changes_emit(now=now) == 0
    assert stock_changes_emit(now=now + GAP_WAIT - timedelta(seconds=1)) == 0
    # ... and takes what follows once the gap is old enough
    assert stock_changes_emit(now=now + GAP_WAIT) == 1
    assert OutboxEvent.objects.get().data["skus"] == [{"sku": "TEE-1", "change": 5, "on_hand": 5}]
