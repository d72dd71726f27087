"""Real threads against PostgreSQL: click & collect orders whose store lacks the item race
for the same warehouse units, which transfers to the stores hold."""

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from orders.exceptions import OrderRejected
from orders.models import Channel, Order
from supply.models import Transfer, TransferLine
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

THREADS = 12
UNITS = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pickups_racing_for_warehouse_units_never_hold_one_twice():
    # given: 5 mugs at one warehouse, none at two stores; the channel allows transfers
    assert connection.vendor == "postgresql"
    mug = product("MUG")
    dc = warehouse("DC-LYON", lat=45.71, lon=4.93)
    stocked(mug, dc, UNITS)
    stores = [
        StoreFactory(code=code, lat=45.76, lon=4.86, ships=False) for code in ("ST-A", "ST-B")
    ]
    Channel.objects.filter(code="web").update(pickup_transfer=True)

    def work(i):
        try:
            order = place(
                [(mug, 1)],
                email=f"c{i}@example.com",
                delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
                pickup_location=stores[i % 2],
            )
        except OrderRejected:
            return None
        return order.pk

    # when: 12 orders for one mug each, at once
    results, errors = run_in_threads(work, THREADS)

    # then: five orders placed, each with its transfer; the rest refused, nothing held twice
    assert errors == [], errors
    placed = [pk for pk in results if pk is not None]
    assert len(placed) == UNITS
    assert Transfer.objects.filter(order__in=placed, status="requested").count() == UNITS
    assert TransferLine.objects.aggregate(units=Sum("quantity"))["units"] == UNITS
    stock = StockLevel.objects.get(product=mug, location=dc)
    assert (stock.on_hand, stock.allocated) == (UNITS, UNITS)
    assert set(Order.objects.values_list("status", flat=True)) == {"allocated"}
    assert stock_drift() == []
