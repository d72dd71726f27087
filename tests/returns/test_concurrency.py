"""Real threads against PostgreSQL: returns made and received at the same moment."""

import pytest
from django.db import connection
from django.db.models import Sum

from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from orders.models import OrderLine
from returns.exceptions import ReturnRejected
from returns.inputs import ReceiveLineInput
from returns.models import Return, ReturnLine
from returns.services import return_receive
from tests.factories import LocationFactory, ProductFactory
from tests.orders.helpers import stocked
from tests.returns.helpers import order_shipped, return_of
from tests.threads import run_in_threads

THREADS = 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_returns_never_take_more_units_than_were_received():
    # given: 5 shirts shipped, and twelve returns of 1 or 2 asked for at the same moment
    assert connection.vendor == "postgresql"
    tee = ProductFactory(sku="TEE-RACE")
    stocked(tee, LocationFactory(code="DC-RACE"), 20)
    order = order_shipped([(tee, 5, "10.00")])

    def work(i):
        try:
            return return_of(order, [(tee, 1 + i % 2)]).number
        except ReturnRejected:
            return None

    # when
    results, errors = run_in_threads(work, THREADS)

    # then: no error reached a caller; what was granted never exceeds what was shipped
    assert errors == []
    made = [number for number in results if number is not None]
    granted = ReturnLine.objects.filter(return_request__order=order).aggregate(n=Sum("quantity"))
    line = OrderLine.objects.get(order=order)
    assert granted["n"] == line.quantity_returned
    assert 4 <= line.quantity_returned <= 5  # as full as the asked sizes allow
    assert Return.objects.filter(order=order).count() == len(made)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_of_one_return_never_receive_more_than_it_names():
    # given: a return of 4 units; eight receipts of one unit each at the same moment
    assert connection.vendor == "postgresql"
    tee = ProductFactory(sku="TEE-RECV")
    warehouse = LocationFactory(code="DC-RECV")
    stocked(tee, warehouse, 10)
    order = order_shipped([(tee, 4, "10.00")])
    ret = return_of(order, [(tee, 4)])
    before = StockLevel.objects.get(product=tee, location=warehouse).on_hand

    def work(i):
        try:
            return_receive(
                ret=ret,
                location=warehouse,
                lines=[ReceiveLineInput(product=tee, quantity=1, disposition="restock")],
            )
            return True
        except ReturnRejected:
            return False
        except Exception as error:  # a received return refuses with a conflict
            return type(error).__name__

    # when
    results, errors = run_in_threads(work, 8)

    # then
    assert errors == []
    assert results.count(True) == 4
    ret.refresh_from_db()
    assert ret.status == "received"
    assert ReturnLine.objects.get(return_request=ret).received == 4
    assert StockLevel.objects.get(product=tee, location=warehouse).on_hand == before + 4
    assert stock_drift() == []
