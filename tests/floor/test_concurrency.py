"""Real threads against PostgreSQL: refusals of single units racing new orders for the same
stock promise no unit twice; a parcel handed over at two tills at once leaves stock once."""

import pytest
from django.db.models import Sum
from django.test import override_settings

from core.exceptions import DomainError
from fulfilment.models import Fulfilment
from inventory.models import Allocation, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from orders.services.fulfilments import (
    RejectReason,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject_lines,
)
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@override_settings(OMS_MAX_SOURCING_ATTEMPTS=50)
def test_single_unit_refusals_racing_new_orders_never_promise_a_unit_twice():
    # given: 6 tees held by the near warehouse for one order; the far one has 6 more
    tee = product("TEE")
    near = warehouse("DC-NEAR", shipment_cost="1.00")
    far = warehouse("DC-FAR", shipment_cost="9.00", lat=45.76, lon=4.84)
    stocked(tee, near, 6)
    stocked(tee, far, 6)
    order = place([(tee, 6)])
    request = order.fulfilments.get()
    line = order.lines.get()

    # when: six pickers each refuse one damaged unit while six customers order one each
    def work(i):
        if i % 2:
            return place([(tee, 1)], email=f"c{i}@example.com")
        return fulfilment_reject_lines(
            fulfilment_id=request.pk,
            units_by_line={line.pk: 1},
            reason=f"damaged {i}",
            reason_code=RejectReason.DAMAGED,
        )

    _, errors = run_in_threads(work, 12)

    # then: six units written off at the near warehouse; the request is wholly refused
    assert [repr(e) for e in errors] == []
    request.refresh_from_db()
    assert request.status == Fulfilment.Status.REJECTED
    damaged = StockMovement.objects.filter(kind="damage").aggregate(n=Sum("quantity"))["n"]
    assert damaged == -6
    # and the far warehouse's 6 units went to 6 of the 12 wants, never more
    far_row = StockLevel.objects.get(product=tee, location=far)
    held = Allocation.objects.open().filter(stock=far_row).aggregate(n=Sum("quantity"))["n"]
    assert held == far_row.allocated == 6
    assert stock_drift() == []


def test_a_parcel_handed_over_at_two_tills_at_once_leaves_stock_once():
    # given
    tee = product("TEE")
    store = StoreFactory(code="ST-1", click_and_collect=True)
    stocked(tee, store, 3)
    order = place([(tee, 1)], delivery_method="click_and_collect", pickup_location=store)
    request = order.fulfilments.get()
    fulfilment_ready(fulfilment_id=request.pk)
    order.refresh_from_db()

    # when
    def work(i):
        return fulfilment_collect(
            fulfilment_id=request.pk, pickup_code=order.pickup_code, collected_by=f"till {i}"
        )

    _, errors = run_in_threads(work, 8)

    # then
    assert [e for e in errors if not isinstance(e, DomainError)] == []
    assert StockMovement.objects.filter(kind="shipment").count() == 1
    row = StockLevel.objects.get(product=tee, location=store)
    assert (row.on_hand, row.allocated) == (2, 0)
    assert order.events.filter(kind="collected").count() == 1
    assert stock_drift() == []
