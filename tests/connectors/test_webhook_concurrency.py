"""The same storefront order, delivered by several topics from many threads at once (each
request applying its body), and stored bodies applied by as many worker runs at once."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors.models import StorefrontOrder
from connectors.services.inbound import storefront_orders_apply_due
from orders.models import Order
from tests.connectors.helpers import connect, outcome, post, shopify_order, store_only
from tests.orders.helpers import product, stocked, warehouse
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_orders_create_and_updated_from_eight_threads_make_one_order():
    # given
    stocked(product("IPOD2008PINK"), warehouse("WH"), 100)
    connect("shop")
    payload = shopify_order()

    def deliver(i: int):
        topic = "orders/create" if i % 2 == 0 else "orders/updated"
        response = post(Client(), payload, topic=topic, webhook_id=f"delivery-{i}")
        return response.status_code

    # when: eight deliveries of one order, each applied by its own request, at once
    results, errors = run_in_threads(deliver, 8)
    # then
    assert (results, errors) == ([200] * 8, [])
    assert storefront_orders_apply_due().applied == 0
    _one_order_held_once()


def test_eight_worker_runs_at_once_apply_eight_stored_deliveries_into_one_order():
    # given: eight deliveries of one order stored, left to the worker
    stocked(product("IPOD2008PINK"), warehouse("WH"), 100)
    connect("shop")
    for i in range(8):
        store_only(shopify_order(), webhook_id=f"delivery-{i}")

    def work(i: int):
        # a run of its own, one body each
        return storefront_orders_apply_due(limit=1).applied

    # when
    applied, errors = run_in_threads(work, 8)
    # then
    assert errors == []
    # (a run that found every body claimed by the others leaves nothing behind)
    assert sum(applied) + storefront_orders_apply_due().applied == 8
    _one_order_held_once()


def _one_order_held_once():
    order = Order.objects.get(channel__code="shop", external_id="820982911946154508")
    assert {outcome(f"delivery-{i}")["order"] for i in range(8)} == {order.number}
    assert StorefrontOrder.objects.filter(order=order, status="applied").count() == 8
    # one order's units, held once
    assert sum(line.quantity for line in order.lines.all()) == 2
    assert order.lines.get(line_no=1).allocations.count() == 1
    assert not order.needs_attention
