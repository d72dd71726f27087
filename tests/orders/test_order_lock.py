"""Real threads against PostgreSQL: an order's lock holds that order, not its channel."""

import threading

import pytest
from django.db import transaction

from orders.locks import lock_order
from orders.models import Order
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Long enough for a capture on a loaded machine; a capture that waited for the lock
# would wait all of it.
WAIT_SECONDS = 10


def test_holding_an_order_lock_does_not_delay_a_capture_on_its_channel():
    # given: an order of the web channel, and stock for another
    sku = product("LOCK-1")
    stocked(sku, warehouse("DC-L"), 10)
    held_order = place([(sku, 1)], email="first@example.com")
    locked, captured = threading.Event(), threading.Event()

    def work(i):
        if i == 0:
            # when: one transaction holds the order's lock (as cancel, ship, accept do) ...
            with transaction.atomic():
                lock_order(held_order.pk)
                locked.set()
                # ... and keeps it until the capture is done, or gives up waiting
                return "capture finished while the lock was held", captured.wait(WAIT_SECONDS)
        locked.wait(WAIT_SECONDS)
        order = place([(sku, 1)], email="second@example.com")
        captured.set()
        return "captured", order.status

    results, errors = run_in_threads(work, 2)

    # then
    assert errors == []
    assert sorted(results) == [
        ("capture finished while the lock was held", True),
        ("captured", Order.Status.ALLOCATED),
    ]
