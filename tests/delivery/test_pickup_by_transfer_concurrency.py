"""Real threads against PostgreSQL: click & collect orders whose store lacks the item race
for the same warehouse units, which transfers to the stores hold, at capture and when the
stores reject their requests."""

import pytest
from django.db import connection
from django.db.models import Sum

from fulfilment.models import Fulfilment, RejectReason
from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from orders.exceptions import OrderRejected
from orders.models import Channel, Order
from orders.services.fulfilments import fulfilment_reject
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


STORES = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_stores_rejecting_at_once_never_get_one_warehouse_unit_twice():
    # given: six stores, each with one mug set aside for a click & collect order, and a
    # warehouse with three mugs; the channel allows transfers
    assert connection.vendor == "postgresql"
    mug = product("MUG")
    dc = warehouse("DC-LYON", lat=45.71, lon=4.93)
    stocked(mug, dc, UNITS - 2)
    Channel.objects.filter(code="web").update(pickup_transfer=True)
    orders = []
    for n in range(STORES):
        store = StoreFactory(code=f"ST-{n}", lat=45.76, lon=4.86, ships=False)
        stocked(mug, store, 1)
        orders.append(
            place(
                [(mug, 1)],
                email=f"c{n}@example.com",
                delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
                pickup_location=store,
            )
        )
    assert not Transfer.objects.exists()
    requests = [Fulfilment.objects.get(order=order).pk for order in orders]

    def work(i):
        fulfilment_reject(
            fulfilment_id=requests[i], reason="shelf empty", reason_code=RejectReason.OUT_OF_STOCK
        )

    # when: every store finds its shelf empty, at once
    results, errors = run_in_threads(work, STORES)

    # then: three orders get a transfer of the warehouse's mugs, the others wait for stock
    assert errors == [], errors
    assert Transfer.objects.filter(status="requested").count() == UNITS - 2
    assert TransferLine.objects.aggregate(units=Sum("quantity"))["units"] == UNITS - 2
    stock = StockLevel.objects.get(product=mug, location=dc)
    assert (stock.on_hand, stock.allocated) == (UNITS - 2, UNITS - 2)
    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses == ["allocated"] * (UNITS - 2) + ["backordered"] * (STORES - UNITS + 2)
    assert stock_drift() == []
