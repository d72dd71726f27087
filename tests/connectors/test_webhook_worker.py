"""End to end with a real Celery worker: a storefront webhook is answered as soon as its
body is stored, and the worker woken by its commit makes the order, once, with nothing run
by hand."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors.models import StorefrontOrder
from orders.models import Order
from tests.connectors.helpers import post, shopify_order
from tests.orders.helpers import product, stocked, warehouse
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_webhook_becomes_an_order_through_the_worker(celery_worker_process):
    from tests.connectors.helpers import connect

    # given
    stocked(product("IPOD2008PINK"), warehouse("WH"), 10)
    connect("shop")
    # when: the order, and the same order updated, and the first delivery again
    client = Client()
    first = post(client, shopify_order(), webhook_id="w-1")
    post(client, shopify_order(), topic="orders/updated", webhook_id="w-2")
    again = post(client, shopify_order(), webhook_id="w-1")
    # then: acknowledged before anything was made of them
    assert first.json()["status"] == "received"
    assert again.json()["duplicate"] is True
    # and the worker makes one order of them
    wait_for(lambda: StorefrontOrder.objects.filter(status="applied").count() == 2, timeout=60)
    order = Order.objects.get(channel__code="shop", external_id="820982911946154508")
    assert set(StorefrontOrder.objects.values_list("order", flat=True)) == {order.pk}
    assert sum(line.quantity for line in order.lines.all()) == 2
