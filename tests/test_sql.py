"""core.sql: instances written and read with plain SQL are the ORM's, on either database."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.sql import instances, rows_insert
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
