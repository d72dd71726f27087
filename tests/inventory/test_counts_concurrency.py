"""Counts against concurrent stock writers, on PostgreSQL with real threads and row locks."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.exceptions import InsufficientStock
from inventory.locks import lock_stock
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services.counts import stock_count_file_apply
from inventory.services.ledger import movement_apply, stock_adjust, stock_transfer
from tests.factories import LocationFactory, ProductFactory

Kind = StockMovement.Kind


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_count_beside_concurrent_sales_and_transfers_keeps_the_ledger_and_the_rule():
    # given: 40 products at two locations, 20 units each, received yesterday
    products = [ProductFactory(sku=f"C{n:03d}") for n in range(40)]
    shop, back = LocationFactory(code="SHOP"), LocationFactory(code="BACK")
    with transaction.atomic():
        rows = lock_stock([(p.pk, loc.pk) for p in products for loc in (shop, back)])
        for row in rows.values():
            movement_apply(
                stock=row,
                kind=Kind.RECEIPT,
                quantity=20,
                at=timezone.now() - timedelta(days=1),
            )
    counted_at = timezone.now() - timedelta(seconds=30)
    data = ("sku,location,quantity\n" + "".join(f"{p.sku},SHOP,15\n" for p in products)).encode()
    errors: list[BaseException] = []
    stop = threading.Event()

    def sell(seed: int):
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                product = rng.choice(products)
                try:
                    if rng.random() < 0.5:
                        stock_adjust(product=product, location=shop, quantity=-1, reason="sale")
                    else:
                        stock_transfer(product=product, source=back, destination=shop, quantity=1)
                except InsufficientStock:
                    pass
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def count():
        try:
            stock_count_file_apply(data=data, actor=None, source="api", counted_at=counted_at)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    # when: sellers run before, during and after the count
    sellers = [threading.Thread(target=sell, args=(n,)) for n in range(3)]
    for thread in sellers:
        thread.start()
    counter = threading.Thread(target=count)
    counter.start()
    counter.join(timeout=60)
    stop.set()
    for thread in sellers:
        thread.join(timeout=60)

    # then: no deadlock, no error, the ledger balances, and every counted row is
    # 15 + what moved after counted_at
    assert errors == []
    assert stock_drift() == []
    for row in StockLevel.objects.filter(location=shop):
        later = (
            row.movements.exclude(kind=Kind.COUNT)
            .filter(created_at__gt=counted_at)
            .aggregate(total=Sum("quantity"))["total"]
            or 0
        )
        assert row.on_hand == 15 + later, row.product_id
    assert StockMovement.objects.filter(kind=Kind.COUNT).count() == 40
