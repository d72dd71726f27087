"""An order's API answer and its console page list the order's returns, refunds and
exchange orders, each return in the shape the returns endpoints answer."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE
from returns.inputs import ExchangeLineInput, ReceiveLineInput, ReturnInput, ReturnLineInput
from returns.models import Return
from returns.services import return_create, return_receive, return_refund
from tests.console.helpers import person
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped, return_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    tee, mug = product("TEE-1"), product("MUG-1")
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(tee, paris, 10)
    stocked(mug, paris, 10)
    order = order_shipped([(tee, 3, "19.90"), (mug, 1, "9.50")])
    return tee, mug, paris, order


def test_the_order_answer_lists_its_returns_as_the_returns_endpoint_answers_them(api, world):
    # given: one return refunded, a later one only requested
    tee, mug, paris, order = world
    first = return_of(order, [(tee, 2)], reason="damaged")
    return_receive(ret=first, location=paris, lines=[ReceiveLineInput(tee, 2, "restock")])
    return_refund(ret=first)
    second = return_of(order, [(mug, 1)])
    # when
    answer = api.get(reverse("order-detail", args=[order.number])).json()
    # then: oldest first, each exactly as GET /returns/{number}/ shows it
    assert [r["number"] for r in answer["returns"]] == [first.number, second.number]
    for shown in answer["returns"]:
        assert shown == api.get(reverse("return-detail", args=[shown["number"]])).json()
    assert answer["returns"][0]["refund"] == {
        "amount": "44.70",
        "currency": "EUR",
        "status": "refunded",
    }
    assert [line["returned"] for line in answer["lines"]] == [2, 1]


def test_the_order_list_shows_returns_too_in_a_fixed_number_of_queries(
    api, world, django_assert_max_num_queries
):
    # given
    tee, mug, _, order = world
    for _ in range(3):
        return_of(order, [(tee, 1)])
    # when
    with django_assert_max_num_queries(12):
        listed = api.get(reverse("orders")).json()
    # then
    shown = next(o for o in listed["results"] if o["number"] == order.number)
    assert len(shown["returns"]) == 3
    assert all(r["order"] == order.number for r in shown["returns"])


def test_an_order_without_returns_lists_none(api, world):
    # given
    _, _, _, order = world
    # when
    answer = api.get(reverse("order-detail", args=[order.number])).json()
    # then
    assert answer["returns"] == []


def test_the_order_page_shows_returns_refunds_and_the_exchange_order(client, world):
    # given: a refunded return and an exchange whose new order was placed at once
    tee, mug, paris, order = world
    refunded = return_of(order, [(tee, 1)], reason="wrong_item")
    return_receive(ret=refunded, location=paris, lines=[ReceiveLineInput(tee, 1, "restock")])
    return_refund(ret=refunded)
    exchange = exchange_of(order, mug)
    client.force_login(person("ada", CUSTOMER_SERVICE))
    # when
    response = client.get(reverse("orders_console:order", args=[order.number]))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    returns_box = page[page.index('id="returns"') :]
    assert refunded.number in returns_box and "24.80 EUR refunded" in returns_box
    assert "wrong item" in returns_box
    assert exchange.number in returns_box
    assert reverse("orders_console:order", args=[exchange.exchange_order.number]) in returns_box
    totals = page[page.index('id="totals"') : page.index('id="returns"')]
    assert "Refunded (returns)</th><td>−24.80 EUR" in totals
    paid = Decimal(totals.split("Total</th><td>")[1].split(" ")[0])
    assert f"Paid after refunds</th><td>{paid - Decimal('24.80')} EUR" in totals


def exchange_of(order, mug) -> Return:
    return return_create(
        data=ReturnInput(
            order=order,
            lines=[ReturnLineInput(product=mug, quantity=1, reason="too_small")],
            method=Return.Method.MAIL,
            location=None,
            resolution=Return.Resolution.EXCHANGE,
            exchange_lines=[ExchangeLineInput(product=mug, quantity=1)],
        )
    )
