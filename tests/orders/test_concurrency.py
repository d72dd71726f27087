"""Real threads against PostgreSQL: no unit is promised twice, no deadlock reaches a client,
one order per external id."""

import pytest
from django.db.models import Sum

from inventory.models import Allocation, StockLevel
from inventory.reconcile import stock_drift
from orders.models import Order
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_clients_ordering_the_last_ten_units_get_exactly_ten():
    locations = [warehouse("DC-A"), warehouse("DC-B", lat=45.76, lon=4.84)]
    for round_no in range(20):
        # given: the last 10 units of a SKU, over two locations
        sku = product(f"LAST-{round_no}")
        for location in locations:
            stocked(sku, location, 5)

        # when: 50 clients each want one
        def work(i, sku=sku, round_no=round_no):
            return place([(sku, 1)], email=f"c{round_no}-{i}@example.com")

        results, errors = run_in_threads(work, 50)

        # then
        assert errors == []
        held = Allocation.objects.open().filter(stock__product=sku).aggregate(n=Sum("quantity"))
        assert held["n"] == 10
        rows = StockLevel.objects.filter(product=sku)
        assert all(row.available == 0 and row.allocated == row.on_hand == 5 for row in rows)
        statuses = [order.status for order in results]
        assert statuses.count(Order.Status.ALLOCATED) == 10
        assert statuses.count(Order.Status.BACKORDERED) == 40
    assert stock_drift() == []


def test_orders_locking_two_skus_in_opposite_order_never_deadlock_for_a_client():
    # given
    a, b = product("A"), product("B")
    here, there = warehouse("DC-A"), warehouse("DC-B", lat=45.76, lon=4.84)
    for sku in (a, b):
        stocked(sku, here, 1000)
        stocked(sku, there, 1000)

    # when: half the clients list A then B, half B then A
    def work(i):
        lines = [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)]
        return [place(lines, email=f"x{i}-{n}@example.com") for n in range(5)]

    results, errors = run_in_threads(work, 16)

    # then
    assert [repr(e) for e in errors] == []
    assert sum(len(r) for r in results) == 80
    assert Allocation.objects.open().aggregate(n=Sum("quantity"))["n"] == 160
    assert stock_drift() == []


def test_sixteen_duplicates_of_one_external_id_make_one_order():
    # given
    sku = product("DUP")
    stocked(sku, warehouse("DC-A"), 100)

    # when
    results, errors = run_in_threads(lambda i: place([(sku, 2)], external_id="W-100231"), 16)

    # then
    assert errors == []
    assert Order.objects.count() == 1
    assert {order.number for order in results} == {Order.objects.get().number}
    assert StockLevel.objects.get(product=sku).allocated == 2
