"""The stock counters' part of a one-statement write finds its rows by key, also in the
plan PostgreSQL keeps for the prepared statement (a plan made without the parameters'
values, which assumes a set-returning function yields 100 rows)."""

import re

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from core.sql import Writes
from inventory.models import StockLevel
from inventory.services.counters import counter_move
from tests.factories import LocationFactory, ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def stock_rows():
    """A stock table big enough that reading it whole is not the cheap plan."""
    locations = [LocationFactory(code=f"PLAN-{n}") for n in range(4)]
    products = [ProductFactory(sku=f"PLAN-{n:04d}") for n in range(500)]
    StockLevel.objects.bulk_create(
        StockLevel(product=product, location=location, on_hand=10)
        for product in products
        for location in locations
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {StockLevel._meta.db_table}")
    return list(StockLevel.objects.order_by("pk").values_list("pk", flat=True)[:3])


def test_the_counter_part_of_a_write_reads_stock_rows_by_key_in_its_generic_plan(stock_rows):
    # given: the part that moves `allocated` on three rows, as order capture gathers it
    writes = Writes()
    counter_move(
        column="allocated",
        units_by_stock=dict.fromkeys(stock_rows, 1),
        now=timezone.now(),
        writes=writes,
    )
    [(sql, params, _, _)] = writes.parts
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub("%s", lambda _: f"${next(numbered)}", sql)
    # when: PostgreSQL plans it as it does a prepared statement it keeps (the values bound
    # by the client: EXPLAIN EXECUTE takes no parameters of its own)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    with psycopg.ClientCursor(connection.connection) as cursor:
        # The parameters' types as the driver sends them: the time, then the rows' JSON.
        types = ", ".join(["timestamptz"] + ["json"] * (len(params) - 1))
        cursor.execute(f"PREPARE counters_probe ({types}) AS {prepared}")
        marks = ", ".join(["%s"] * len(params))
        cursor.execute(f"EXPLAIN EXECUTE counters_probe ({marks})", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE counters_probe")
    # then: the stock rows come from the primary key's index, not from the whole table
    assert "inventory_stocklevel_pkey" in plan
    assert "Seq Scan on inventory_stocklevel" not in plan
