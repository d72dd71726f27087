"""Real threads against PostgreSQL: orders racing for the same incoming units."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.reconcile import stock_drift
from supply.models import PurchaseOrderLine, PurchasePromise
from supply.services.purchase_orders import purchase_order_create
from tests.orders.helpers import place, product, warehouse
from tests.threads import run_in_threads

THREADS = 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_orders_racing_for_incoming_units_never_get_one_twice():
    # given: no shelf stock, 10 units on two purchase orders at two warehouses
    assert connection.vendor == "postgresql"
    item = product("ATP")
    for code, units in (("DC-A", 6), ("DC-B", 4)):
        purchase_order_create(
            number=f"PO-{code}",
            supplier="Acme",
            location=warehouse(code),
            expected_on=date.today() + timedelta(days=7),
            lines=[(item, units)],
        )

    def work(i):
        order = place([(item, 1 + i % 2)], email=f"c{i}@example.com")
        return order.pk

    # when: 16 orders wanting 24 units at once
    results, errors = run_in_threads(work, THREADS)

    # then: every order placed, 10 units promised, none beyond what a line expects
    assert errors == [], errors
    assert len(results) == THREADS
    promised = PurchasePromise.objects.filter(status="open")
    assert promised.aggregate(units=Sum("quantity"))["units"] == 10
    for line in PurchaseOrderLine.objects.all():
        on_line = promised.filter(purchase_order_line=line).aggregate(units=Sum("quantity"))
        assert on_line["units"] == line.quantity
    assert stock_drift() == []
