"""Real threads against PostgreSQL: reservations and orders racing for the last units never
promise more than there is, and orders consume their reservations under the same locks."""

import pytest
from django.db.models import Sum

from inventory.models import Allocation, StockLevel
from orders.models import Channel, Order, Reservation, ReservationLine
from orders.services.reservations import NotEnoughStock, ReservedLine, reservation_create
from tests.orders.helpers import place, product, stocked, warehouse
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_reservations_and_orders_racing_for_the_last_units_never_over_promise():
    web = Channel.objects.get(code="web")
    locations = [warehouse("DC-A"), warehouse("DC-B", lat=45.76, lon=4.84)]
    for round_no in range(5):
        # given: the last 10 units of a SKU, over two locations
        sku = product(f"LAST-{round_no}")
        for location in locations:
            stocked(sku, location, 5)

        # when: 30 clients, half reserving one unit, half ordering one
        def work(i, sku=sku, round_no=round_no, web=web):
            if i % 2:
                try:
                    return reservation_create(channel=web, lines=[ReservedLine(sku, 1)])
                except NotEnoughStock:
                    return None
            return place([(sku, 1)], email=f"r{round_no}-{i}@example.com")

        results, errors = run_in_threads(work, 30)

        # then: exactly 10 units promised, none twice
        assert errors == []
        allocated = (
            Allocation.objects.open().filter(stock__product=sku).aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        reserved = (
            ReservationLine.objects.filter(product=sku, active=True).aggregate(n=Sum("quantity"))[
                "n"
            ]
            or 0
        )
        assert allocated + reserved == 10
        for row in StockLevel.objects.filter(product=sku):
            assert row.allocated + row.reserved == row.on_hand == 5
        orders = [r for r in results if isinstance(r, Order)]
        reservations = [r for r in results if isinstance(r, Reservation)]
        assert sum(o.status == Order.Status.ALLOCATED for o in orders) == allocated
        assert len(reservations) == reserved


def test_orders_consuming_reservations_while_others_order_keep_every_held_unit():
    # given: 10 units, 5 held by five reservations of one unit each
    web = Channel.objects.get(code="web")
    sku = product("HELD")
    stocked(sku, warehouse("DC-A"), 10)
    holds = [reservation_create(channel=web, lines=[ReservedLine(sku, 1)]) for _ in range(5)]

    # when: the five reservation holders order while 15 others order without one
    def work(i):
        if i < 5:
            return place([(sku, 1)], email=f"h{i}@example.com", reservation=holds[i])
        return place([(sku, 1)], email=f"o{i}@example.com")

    results, errors = run_in_threads(work, 20)

    # then: every holder got its unit, 5 others got the rest, nothing is left reserved
    assert errors == []
    holders = [o for o in results if o.customer_email.startswith("h")]
    others = [o for o in results if o.customer_email.startswith("o")]
    assert all(o.status == Order.Status.ALLOCATED for o in holders)
    assert sum(o.status == Order.Status.ALLOCATED for o in others) == 5
    row = StockLevel.objects.get(product=sku)
    assert (row.allocated, row.reserved) == (10, 0)
    assert set(Reservation.objects.values_list("status", flat=True)) == {"consumed"}
