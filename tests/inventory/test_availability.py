"""The availability rule: its SQL, its ORM expression and its Python twin agree on real rows,
and so do the channel buffer's SQL and Python."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.availability import (
    available_clamped_sql,
    buffer_kept,
    buffer_kept_sql,
    buffer_total,
    buffer_total_sql,
    units_available,
    units_expired,
)
from inventory.models import Location, Product, StockLevel
from orders.models import Channel, Reservation, ReservationLine
from tests.factories import ChannelFactory, LocationFactory

pytestmark = pytest.mark.django_db

RULE_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
numbers = count()


@dataclass(frozen=True)
class Line:
    quantity: int
    minutes: int  # expiry relative to now
    active: bool

    def expires_at(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.minutes)


# At least ten minutes either side of now: the database's clock and Python's differ by
# the moments between them, and a line expiring in that gap could be judged either way.
lines = st.lists(
    st.builds(
        Line,
        quantity=st.integers(1, 10),
        minutes=st.one_of(st.integers(-600, -10), st.integers(10, 600)),
        active=st.booleans(),
    ),
    max_size=5,
)


@pytest.fixture
def place():
    return LocationFactory(code="RULE"), ChannelFactory(code="rule")


def _row(place, *, on_hand, allocated, safety_stock, held, now) -> tuple[StockLevel, list]:
    location, channel = place
    product = Product.objects.create(sku=f"RULE-{next(numbers)}", name="Rule")
    stock = StockLevel.objects.create(
        product=product,
        location=location,
        on_hand=on_hand,
        allocated=allocated,
        # The counter is the sum of the active lines, expired ones included.
        reserved=sum(line.quantity for line in held if line.active),
        safety_stock=safety_stock,
    )
    reservation = Reservation.objects.create(
        channel=channel, expires_at=now + timedelta(minutes=15), created_at=now
    )
    rows = ReservationLine.objects.bulk_create(
        ReservationLine(
            reservation=reservation,
            line_no=i + 1,
            product=product,
            stock=stock,
            quantity=line.quantity,
            expires_at=line.expires_at(now),
            active=line.active,
        )
        for i, line in enumerate(held)
    )
    return stock, rows


@RULE_SETTINGS
@given(
    on_hand=st.integers(0, 60),
    allocated=st.integers(0, 60),
    safety_stock=st.integers(0, 20),
    held=lines,
)
def test_the_sql_the_orm_and_python_count_the_same_available(
    place, on_hand, allocated, safety_stock, held
):
    # given: a stock row and its reservation lines, in the database
    now = timezone.now()
    stock, rows = _row(
        place, on_hand=on_hand, allocated=allocated, safety_stock=safety_stock, held=held, now=now
    )
    # when: the Python twin counts on its figures ...
    expected = units_available(
        on_hand=on_hand,
        allocated=allocated,
        reserved=stock.reserved,
        safety_stock=safety_stock,
        reserved_expired=units_expired(rows, now=now),
    )
    # ... and the database on the row
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {available_clamped_sql('s')} FROM {StockLevel._meta.db_table} s"
            " WHERE s.id = %s",
            [stock.pk],
        )
        (in_sql,) = cursor.fetchone()
    annotated = StockLevel.objects.with_available().get(pk=stock.pk)
    # then
    assert in_sql == expected
    assert annotated.available_qty == expected
    assert annotated.available == expected
    assert StockLevel.objects.get(pk=stock.pk).available == expected
    assert StockLevel.objects.unavailable().filter(pk=stock.pk).exists() == (expected == 0)
    assert StockLevel.objects.sellable().filter(pk=stock.pk).exists() == (expected > 0)


@RULE_SETTINGS
@given(
    available=st.integers(0, 10_000),
    percent=st.decimals(min_value=0, max_value=100, places=2),
    units=st.integers(0, 10_000),
)
def test_the_buffer_in_sql_holds_back_what_python_holds_back(available, percent, units):
    # given: a channel's buffer, in the database
    channel = Channel.objects.create(
        code=f"buffer-{next(numbers)}", name="Buffer", buffer_percent=percent, buffer_units=units
    )
    # when
    with connection.cursor() as cursor:
        kept = buffer_kept_sql("%s", "c.buffer_percent")
        cursor.execute(
            f"SELECT {kept}, {buffer_total_sql(kept, 'c.buffer_units')}"
            f" FROM {Channel._meta.db_table} c WHERE c.id = %s",
            [available, available, available, available, available, available, channel.pk],
        )
        in_sql = cursor.fetchone()
    # then
    kept_in_python = buffer_kept(available, percent=channel.buffer_percent)
    assert in_sql == (kept_in_python, buffer_total(kept_in_python, units=units))
    assert 0 <= kept_in_python <= available


def test_a_row_without_reservations_asks_nothing_more(django_assert_num_queries):
    stock = StockLevel.objects.create(
        product=Product.objects.create(sku="PLAIN", name="Plain"),
        location=Location.objects.create(code="PLAIN", name="Plain", lat=0, lon=0),
        on_hand=5,
        allocated=1,
        safety_stock=1,
    )
    with django_assert_num_queries(0):
        assert stock.available == 3


def test_the_buffer_keeps_a_decimal_percentage_exactly():
    assert buffer_kept(10_000, percent=Decimal("12.55")) == 10_000 - 1255
