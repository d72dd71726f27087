"""Exchanges: the new order a return places, and what cancelling the return does to it."""

import pytest
from django.urls import reverse

from fulfilment.models import Fulfilment
from orders.models import Order
from orders.services.fulfilments import fulfilment_ship
from returns.models import Return
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped

pytestmark = pytest.mark.django_db

LIST = reverse("returns")


@pytest.fixture
def shipped():
    small, large = product("TEE-S"), product("TEE-L")
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(small, paris, 5)
    stocked(large, paris, 5)
    return order_shipped([(small, 1, "19.90")])


def exchange(api, order):
    return api.post(
        LIST,
        {
            "order": order.number,
            "lines": [{"sku": "TEE-S", "quantity": 1, "reason": "too_small"}],
            "method": "mail",
            "location": None,
            "resolution": "exchange",
            "exchange_lines": [{"sku": "TEE-L", "quantity": 1}],
        },
        format="json",
    )


def test_an_exchange_places_a_new_order_at_once_sourced_like_any(api, shipped):
    # when
    response = exchange(api, shipped)
    # then
    assert response.status_code == 201, response.json()
    answer = response.json()
    new = Order.objects.get(number=answer["exchange_order"])
    assert new.external_id == answer["number"]
    assert new.channel_id == shipped.channel_id
    assert new.customer_email == shipped.customer_email
    assert new.status == Order.Status.ALLOCATED
    assert [(line.product.sku, line.quantity) for line in new.lines.all()] == [("TEE-L", 1)]
    assert answer["refund"]["status"] == "none"


def test_cancelling_the_return_cancels_its_exchange_order_if_not_shipped(api, shipped):
    # given
    number = exchange(api, shipped).json()["number"]
    # when
    response = api.post(reverse("return-cancel", args=[number]), {}, format="json")
    # then
    assert response.status_code == 200
    new = Return.objects.get(number=number).exchange_order
    assert new.status == Order.Status.CANCELLED


def test_a_shipped_exchange_order_stays_when_the_return_is_cancelled(api, shipped):
    # given
    number = exchange(api, shipped).json()["number"]
    new = Return.objects.get(number=number).exchange_order
    for fulfilment in Fulfilment.objects.filter(order=new):
        fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="c", tracking_number="X")
    # when
    response = api.post(reverse("return-cancel", args=[number]), {}, format="json")
    # then
    assert response.status_code == 200
    new.refresh_from_db()
    assert new.status == Order.Status.SHIPPED
    assert new.events.filter(kind="note", message__contains=number).exists()


def test_a_computed_refund_of_an_exchange_is_a_409(api, shipped):
    number = exchange(api, shipped).json()["number"]
    response = api.post(reverse("return-refund", args=[number]), {}, format="json")
    assert response.status_code == 409
