"""Looking an order up by its channel's id stays an index lookup once PostgreSQL has prepared
the statement (server-side binding) and plans it for any value, on a table where most
orders carry no external id."""

import re

import psycopg
import pytest
from django.db import connection
from django.db.models import Q

from orders.models import Channel, Order, external_id_is

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BLANK_ORDERS = 5000
INDEXED_EXTERNAL_ID = re.compile(r"Index Cond: .*external_id")


@pytest.fixture
def mostly_blank_external_ids():
    channel = Channel.objects.get(code="web")
    Order.objects.bulk_create(
        Order(number=f"PLAN{n:06d}", channel=channel) for n in range(BLANK_ORDERS)
    )
    Order.objects.create(number="PLANX00001", channel=channel, external_id="SHOP-1001")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    return channel


def generic_plan(queryset) -> str:
    """EXPLAIN the plan PostgreSQL would keep for `queryset` prepared for any value."""
    sql, params = queryset.query.sql_with_params()
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _match: f"${next(numbered)}", sql)
    types = ", ".join("integer" if isinstance(value, int) else "text" for value in params)
    connection.ensure_connection()
    # A client-side cursor sends PREPARE as plain text: bound by the server, its $n would be
    # read as parameters of the PREPARE itself.
    with psycopg.ClientCursor(connection.connection) as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE plan_probe({types}) AS {prepared}")
        try:
            values = ", ".join(["%s"] * len(params))
            cursor.execute(f"EXPLAIN EXECUTE plan_probe({values})", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE plan_probe")


def test_a_bare_equality_is_planned_as_a_scan_for_any_value(mostly_blank_external_ids):
    # given: the statistics say nearly every row has the same (blank) external id
    queryset = Order.objects.filter(Q(external_id="SHOP-1001"), channel=mostly_blank_external_ids)
    # when
    plan = generic_plan(queryset.order_by("pk")[:1])
    # then: why the lookups below say more than the equality
    assert not INDEXED_EXTERNAL_ID.search(plan), plan


def test_the_idempotency_lookup_uses_the_partial_unique_index(mostly_blank_external_ids):
    # given
    queryset = Order.objects.filter(
        external_id_is("SHOP-1001"), channel=mostly_blank_external_ids
    ).order_by("pk")[:1]
    # when
    plan = generic_plan(queryset)
    # then
    assert "order_unique_external_id_per_channel" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert list(queryset.values_list("number", flat=True)) == ["PLANX00001"]


def test_the_search_by_whole_key_uses_indexes_only(mostly_blank_external_ids):
    # given: the console's search looks a term up as an order number or an external id
    queryset = Order.objects.filter(
        Q(number="SHOP-1001") | external_id_is("SHOP-1001")
    ).values_list("pk", flat=True)[:50]
    # when
    plan = generic_plan(queryset)
    # then
    assert "Seq Scan" not in plan, plan
    assert INDEXED_EXTERNAL_ID.search(plan), plan
