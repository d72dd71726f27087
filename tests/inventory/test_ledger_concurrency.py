"""Real threads against PostgreSQL: concurrent adjustments and transfers on the same rows."""

import random
import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

from inventory.exceptions import InsufficientStock
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services import stock_adjust, stock_receive, stock_transfer
from tests.factories import LocationFactory, ProductFactory

THREADS = 20
STEPS = 15


def _run_in_threads(work, count: int) -> list[BaseException]:
    """Start `count` threads on `work(i)` at once; return what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as error:  # collected and asserted on below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_adjusting_and_transferring_lose_no_update():
    # given: one product on hand at three locations
    assert connection.vendor == "postgresql"
    product = ProductFactory()
    locations = [LocationFactory() for _ in range(3)]
    for location in locations:
        stock_receive(product=product, location=location, quantity=200)
    adjusted = [0] * THREADS

    def work(i):
        rng = random.Random(i)
        for _ in range(STEPS):
            a, b = rng.sample(locations, 2)
            try:
                if rng.random() < 0.5:
                    delta = rng.choice([-5, -3, -1, 2, 4])
                    stock_adjust(product=product, location=a, quantity=delta, reason="t")
                    adjusted[i] += delta
                else:
                    stock_transfer(
                        product=product, source=a, destination=b, quantity=rng.randint(1, 9)
                    )
            except InsufficientStock:
                pass  # a refused movement changes nothing, which the totals below check

    # when
    errors = _run_in_threads(work, THREADS)

    # then: no deadlock or other error reached a caller
    assert errors == []
    rows = StockLevel.objects.filter(product=product)
    total = rows.aggregate(total=Sum("on_hand"))["total"]
    assert total == 600 + sum(adjusted)  # transfers conserve units; every adjustment counted
    assert all(row.on_hand >= 0 for row in rows)
    assert stock_drift() == []  # on_hand equals the ledger for every row
    movements = StockMovement.objects.filter(stock__in=rows)
    assert (
        movements.filter(kind="transfer_out").count()
        == movements.filter(kind="transfer_in").count()
    )
