"""core.sql: instances written and read with plain SQL are the ORM's, on either database."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.sql import Writes, instances, pks_reserve, rows_insert
from inventory.models import Product
from orders.models import Channel, Order, OrderEvent

pytestmark = pytest.mark.django_db


def test_rows_insert_writes_what_the_orm_reads_back_and_sets_the_pks_in_order():
    # given
    channel = Channel.objects.get(code="web")
    order = Order(number="ABC234XYZ", channel=channel, logistics_cost=Decimal("12.3"))
    rows_insert([order])
    events = [
        OrderEvent(order=order, kind="created", data={"n": n, "name": "é"}, public=n % 2 == 0)
        for n in range(3)
    ]
    before = timezone.now()
    # when
    rows_insert(events)
    # then
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    read = list(OrderEvent.objects.filter(order=order).order_by("pk"))
    assert [(e.pk, e.data, e.public) for e in read] == [(e.pk, e.data, e.public) for e in events]
    assert all(e.created_at >= before and not e._state.adding for e in events)
    stored = Order.objects.get(pk=order.pk)
    assert (stored.number, stored.logistics_cost, stored.created_at) == (
        "ABC234XYZ",
        Decimal("12.30"),
        order.created_at,
    )


def test_instances_converts_raw_values_as_the_orm_does():
    # given
    channel = Channel.objects.get(code="marketplace")
    Channel.objects.filter(pk=channel.pk).update(buffer_percent=Decimal("12.5"), active=False)
    fields = [field.attname for field in Channel._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(fields)} FROM orders_channel WHERE id = %s", [channel.pk]
        )
        rows = cursor.fetchall()
    # when
    [raw] = instances(Channel, fields, rows)
    # then
    orm = Channel.objects.get(pk=channel.pk)
    assert [getattr(raw, name) for name in fields] == [getattr(orm, name) for name in fields]
    assert [type(getattr(raw, name)) for name in fields] == [
        type(getattr(orm, name)) for name in fields
    ]


def test_instances_defers_the_fields_not_read():
    # given
    product = Product.objects.create(sku="SQL-1", name="Lamp", price=Decimal("9.90"))
    # when
    [partial] = instances(Product, ["id", "sku"], [(product.pk, "SQL-1")])
    # then
    assert partial.get_deferred_fields() >= {"name", "price"}
    assert partial.price == Decimal("9.90")  # loaded on first use


def test_writes_sends_the_rows_of_several_tables_as_one_statement_the_orm_reads_back(
    django_assert_num_queries,
):
    # given: keys drawn first, so the rows can name each other before any is written
    channel = Channel.objects.get(code="web")
    keys = pks_reserve({Order: 2})
    writes = Writes(keys)
    orders = [
        Order(
            number=f"ABC234XY{n}",
            channel=channel,
            logistics_cost=Decimal("12.3"),
            promised_date=date(2026, 12, 24),
            ship_lat=48.8606,
            customer_name='Zoë "Z" O\'Brien',
        )
        for n in range(2)
    ]
    writes.insert(orders)
    events = [
        OrderEvent(order=order, kind="created", data={"n": n, "name": "é"}, public=n % 2 == 0)
        for n, order in enumerate(orders)
    ]
    writes.insert(events)
    # when
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        writes.run()
    # then
    assert sorted(order.pk for order in orders) == sorted(keys[Order])
    stored = Order.objects.get(pk=orders[1].pk)
    assert (
        stored.number,
        stored.logistics_cost,
        stored.promised_date,
        stored.ship_lat,
        stored.customer_name,
        stored.created_at,
    ) == (
        "ABC234XY1",
        Decimal("12.30"),
        date(2026, 12, 24),
        48.8606,
        'Zoë "Z" O\'Brien',
        orders[1].created_at,
    )
    read = OrderEvent.objects.filter(order__in=orders).order_by("order_id")
    assert [(e.order_id, e.data, e.public) for e in read] == [
        (order.pk, {"n": n, "name": "é"}, n % 2 == 0) for n, order in enumerate(orders)
    ]
    assert not orders[0]._state.adding


def test_keys_drawn_are_never_given_to_a_row_written_later():
    # given
    channel = Channel.objects.get(code="web")
    drawn = pks_reserve({Order: 3})[Order]
    # when: a row written the usual way, with the database's own key
    later = Order.objects.create(number="LATER2345", channel=channel)
    # then
    assert len(set(drawn)) == 3
    assert later.pk not in drawn and later.pk > max(drawn)


def test_writes_refuses_more_rows_than_keys_drawn():
    # given
    channel = Channel.objects.get(code="web")
    writes = Writes(pks_reserve({Order: 1}))
    # when / then
    with pytest.raises(ValueError, match="more Order rows than keys drawn"):
        writes.insert([Order(number=f"MANY2345{n}", channel=channel) for n in range(2)])
