"""End to end with a real Celery worker: a storefront webhook its request stored but did
not apply (the request's process died, its claim lapsed) is applied by the worker, woken
by the commit that stored it, once, with nothing run by hand."""

from __future__ import annotations

import pytest

from connectors.models import StorefrontOrder
from orders.models import Order
from tests.connectors.helpers import shopify_order, store_only
from tests.orders.helpers import product, stocked, warehouse
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_stored_webhook_becomes_an_order_through_the_worker(celery_worker_process):
    from tests.connectors.helpers import connect

    # given
    stocked(product("IPOD2008PINK"), warehouse("WH"), 10)
    connect("shop")
    # when: the order and the same order updated, stored and left to the worker
    store_only(shopify_order(), webhook_id="w-1")
    store_only(shopify_order(), webhook_id="w-2")
    # then: the worker makes one order of them
    wait_for(lambda: StorefrontOrder.objects.filter(status="applied").count() == 2, timeout=60)
    order = Order.objects.get(channel__code="shop", external_id="820982911946154508")
    assert set(StorefrontOrder.objects.values_list("order", flat=True)) == {order.pk}
    assert sum(line.quantity for line in order.lines.all()) == 2
