"""Real threads against PostgreSQL: transfers and orders racing for the same units."""

import random

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.models import Allocation, StockLevel
from inventory.reconcile import stock_drift
from inventory.services import stock_receive
from orders.models import Order
from supply.exceptions import InvalidTransition, LinesShort
from supply.models import Transfer
from supply.services.transfers import (
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from tests.factories import LocationFactory, ProductFactory, StoreFactory
from tests.orders.helpers import place
from tests.threads import run_in_threads

THREADS = 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transfers_and_orders_racing_never_promise_a_unit_twice():
    # given: 12 units at one warehouse, wanted by transfers to four stores and by orders
    assert connection.vendor == "postgresql"
    product = ProductFactory(sku="RACE")
    dc = LocationFactory(code="DC-RACE")
    stores = [StoreFactory(code=f"ST-RACE-{i}", ships=False) for i in range(4)]
    stock_receive(product=product, location=dc, quantity=12)

    def work(i):
        rng = random.Random(i)
        quantity = rng.randint(1, 3)
        if i % 4 == 0:
            order = place([(product, quantity)], email=f"c{i}@example.com")
            return ("order", order.pk)
        try:
            transfer = transfer_create(
                source=dc,
                destination=stores[i % 4],
                lines=[TransferLineInput(product=product, quantity=quantity)],
            )
        except LinesShort:
            return ("short", quantity)
        # then ship, cancel or receive it while the others still race
        step = rng.random()
        if step < 0.3:
            transfer_cancel(transfer_id=transfer.pk)
        elif step < 0.8:
            transfer_ship(transfer_id=transfer.pk)
            transfer_receive(transfer_id=transfer.pk, received={product: quantity - (i % 2)})
        return ("transfer", transfer.pk)

    # when
    results, errors = run_in_threads(work, THREADS)

    # then: no error, and every unit promised at most once
    assert errors == [], errors
    assert len(results) == THREADS
    dc_row = StockLevel.objects.get(product=product, location=dc)
    held = sum(
        line.quantity
        for t in Transfer.objects.filter(status__in=["requested", "shipped", "received"])
        for line in t.lines.all()
    )
    allocated_to_orders = (
        Allocation.objects.holding().filter(stock=dc_row).aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    # 16 callers wanting up to 3 each: some were refused, none got a unit promised twice
    assert held + allocated_to_orders <= 12
    assert (
        any(kind == "short" for kind, _ in results)
        or Order.objects.filter(status="backordered").exists()
    )
    shipped = sum(
        line.quantity
        for t in Transfer.objects.filter(status__in=["shipped", "received"])
        for line in t.lines.all()
    )
    assert dc_row.on_hand == 12 - shipped
    assert dc_row.allocated == held - shipped + allocated_to_orders
    assert stock_drift() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shipping_and_cancelling_one_transfer_at_once_does_one_of_them():
    # given
    product = ProductFactory(sku="ONE")
    dc, store = LocationFactory(code="DC-ONE"), StoreFactory(code="ST-ONE")
    stock_receive(product=product, location=dc, quantity=5)
    transfer = transfer_create(
        source=dc, destination=store, lines=[TransferLineInput(product=product, quantity=5)]
    )

    def work(i):
        try:
            if i % 2:
                transfer_ship(transfer_id=transfer.pk)
                return "shipped"
            transfer_cancel(transfer_id=transfer.pk)
            return "cancelled"
        except InvalidTransition:
            return "refused"

    # when
    results, errors = run_in_threads(work, 8)

    # then: exactly one took effect
    assert errors == []
    assert sorted(results).count("refused") == 7
    transfer.refresh_from_db()
    row = StockLevel.objects.get(product=product, location=dc)
    if transfer.status == "shipped":
        assert (row.on_hand, row.allocated) == (0, 0)
        assert StockLevel.objects.get(product=product, location=store).in_transit == 5
    else:
        assert (row.on_hand, row.allocated) == (5, 0)
    assert stock_drift() == []
