"""Real threads against PostgreSQL: purchase-order files racing, and a file racing order
capture on the same stock rows."""

import pytest
from django.db import connection

from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from supply.imports import purchase_orders_import
from supply.models import PurchaseOrder, PurchaseOrderLine
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

HEADER = "number,supplier,location,expected_on,sku,quantity\n"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_files_sending_the_same_numbers_at_once_open_each_purchase_order_once():
    # given: eight files, each with the same two purchase orders and one of its own
    assert connection.vendor == "postgresql"
    dc = warehouse("DC-A")
    items = [product(f"SKU-{n}") for n in range(4)]
    shared = "".join(
        f"PO-{n},Acme,DC-A,2030-05-04,{item.sku},{5 + k}\n"
        for n in (1, 2)
        for k, item in enumerate(items)
    )

    def work(i):
        own = f"PO-OWN-{i},Acme,DC-A,2030-05-04,SKU-0,1\n"
        outcome = purchase_orders_import(text=HEADER + shared + own)
        return outcome.created

    # when
    results, errors = run_in_threads(work, 8)

    # then: each shared number opened by exactly one file, with its lines once
    assert errors == [], errors
    created = [number for numbers in results for number in numbers]
    assert sorted(n for n in created if not n.startswith("PO-OWN")) == ["PO-1", "PO-2"]
    assert PurchaseOrder.objects.count() == 10
    assert PurchaseOrderLine.objects.filter(purchase_order__number="PO-1").count() == 4
    incoming = StockLevel.objects.get(product=items[0], location=dc).incoming
    assert incoming == 2 * 5 + 8
    assert stock_drift() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_file_and_orders_on_the_same_stock_rows_neither_deadlock_nor_lose_a_unit():
    # given: ten products on the shelves of one warehouse
    assert connection.vendor == "postgresql"
    dc = warehouse("DC-A")
    items = [product(f"SKU-{n}") for n in range(10)]
    for item in items:
        stocked(item, dc, 100)
    text = HEADER + "".join(
        f"PO-{n},Acme,DC-A,2030-05-04,{item.sku},3\n" for n in range(5) for item in items
    )

    def work(i):
        if i == 0:
            return purchase_orders_import(text=text).lines
        # orders lock the same stock rows, in pk order too
        return place([(items[i % 10], 1), (items[(i + 5) % 10], 1)], email=f"c{i}@example.com").pk

    # when
    results, errors = run_in_threads(work, 8)

    # then
    assert errors == [], errors
    assert 50 in results
    for item in items:
        assert StockLevel.objects.get(product=item, location=dc).incoming == 15
    assert stock_drift() == []
