"""Real threads against PostgreSQL: pre-orders racing for a small cap and a little supply."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.models import Product, StockLevel
from inventory.reconcile import stock_drift
from supply.models import PurchaseOrderLine, PurchasePromise
from supply.promises import preorder_promised_total
from supply.services.purchase_orders import purchase_order_create
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

THREADS = 16


def _preorder(sku: str, *, cap: int, incoming: dict[str, int], shelf: int = 0) -> Product:
    item = product(sku)
    Product.objects.filter(pk=item.pk).update(preorder=True, preorder_cap=cap)
    item.refresh_from_db()
    for code, units in incoming.items():
        location = warehouse(code)
        if shelf:
            stocked(item, location, shelf)
        purchase_order_create(
            number=f"PO-{sku}-{code}",
            supplier="Acme",
            location=location,
            expected_on=date.today() + timedelta(days=7),
            lines=[(item, units)],
        )
    return item


def _race(item: Product) -> None:
    def work(i):
        return place([(item, 1 + i % 2)], email=f"c{i}@example.com").pk

    results, errors = run_in_threads(work, THREADS)
    assert errors == [], errors
    assert len(results) == THREADS


def _assert_no_unit_promised_twice() -> None:
    promised = PurchasePromise.objects.filter(status="open")
    for line in PurchaseOrderLine.objects.all():
        on_line = promised.filter(purchase_order_line=line).aggregate(units=Sum("quantity"))
        assert (on_line["units"] or 0) <= line.quantity


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_preorders_racing_for_a_small_cap_never_pass_it():
    # given: a cap of 5, 10 units coming on two purchase orders, shelf stock at both
    assert connection.vendor == "postgresql"
    item = _preorder("CAP", cap=5, incoming={"DC-A": 6, "DC-B": 4}, shelf=20)
    # when: 16 orders wanting 24 units at once
    _race(item)
    # then: exactly the cap promised, nothing taken from the shelves
    assert preorder_promised_total([item.pk]) == {item.pk: 5}
    _assert_no_unit_promised_twice()
    assert not StockLevel.objects.filter(product=item, allocated__gt=0).exists()
    assert stock_drift() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_preorders_racing_for_little_supply_never_get_an_incoming_unit_twice():
    # given: a cap far above the 6 units coming
    assert connection.vendor == "postgresql"
    item = _preorder("FEW", cap=1000, incoming={"DC-A": 4, "DC-B": 2})
    # when
    _race(item)
    # then: every incoming unit promised once
    assert preorder_promised_total([item.pk]) == {item.pk: 6}
    _assert_no_unit_promised_twice()
    assert stock_drift() == []
