"""The customer's "Return items" on the tracking page: the form, the slip, the status."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from orders.models import OrderLine
from orders.tracking.links import tracking_token
from returns.models import Return
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse
from tests.returns.helpers import order_shipped

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


@pytest.fixture
def shipped():
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS", lat=48.86, lon=2.34), 10)
    return order_shipped([(tee, 2, "19.90")])


def start_url(order) -> str:
    return reverse("customer_returns:start", args=[tracking_token(order.number)])


def test_a_shipped_order_offers_return_items_on_its_tracking_page(client, shipped):
    # when
    page = client.get(reverse("tracking:link", args=[tracking_token(shipped.number)]))
    # then
    assert page.status_code == 200
    assert start_url(shipped) in page.content.decode()
    assert "Return items" in page.content.decode()


def test_an_order_not_shipped_offers_no_return(client):
    tee = product("TEE-2")
    stocked(tee, warehouse("DC-LYON"), 5)
    order = place([(tee, 1)])
    page = client.get(reverse("tracking:link", args=[tracking_token(order.number)]))
    assert "Return items" not in page.content.decode()


def test_the_customer_returns_by_mail_and_gets_a_printable_slip(client, shipped):
    # given
    line = OrderLine.objects.get(order=shipped)
    form = client.get(start_url(shipped))
    assert form.status_code == 200
    assert 'name="viewport"' in form.content.decode()
    # when
    response = client.post(
        start_url(shipped),
        {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "too_small", "method": "mail"},
    )
    # then
    ret = Return.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "customer_returns:slip", args=[tracking_token(shipped.number), ret.number]
    )
    assert (ret.method, ret.location.code) == ("mail", "DC-PARIS")
    slip = client.get(response["Location"])
    body = slip.content.decode()
    assert slip.status_code == 200
    assert ret.number in body
    assert "We are waiting for your items." in body
    assert "window.print()" in body
    assert f'aria-label="QR code of return {ret.number}"><svg' in body


def test_the_customer_returns_in_the_nearest_store(client, shipped):
    # given
    StoreFactory(code="ST-LYON", name="Lyon Bellecour", lat=45.76, lon=4.84)
    StoreFactory(code="ST-RIVOLI", name="Paris Rivoli", lat=48.86, lon=2.34)
    line = OrderLine.objects.get(order=shipped)
    form = client.get(start_url(shipped)).content.decode()
    assert form.index("Paris Rivoli") < form.index("Lyon Bellecour")  # nearest first
    # when
    client.post(
        start_url(shipped),
        {
            f"quantity-{line.pk}": "2",
            f"reason-{line.pk}": "damaged",
            "method": "store",
            "store": "ST-LYON",
        },
    )
    # then
    ret = Return.objects.get()
    assert (ret.method, ret.location.code) == ("store", "ST-LYON")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"quantity": "3", "reason": "too_small"}, "choose from 0 to 2"),
        ({"quantity": "0", "reason": "too_small"}, "Choose at least one item"),
        ({"quantity": "1", "reason": ""}, "tell us why"),
    ],
)
def test_a_wrong_form_says_why_and_makes_nothing(client, shipped, fields, message):
    line = OrderLine.objects.get(order=shipped)
    response = client.post(
        start_url(shipped),
        {
            f"quantity-{line.pk}": fields["quantity"],
            f"reason-{line.pk}": fields["reason"],
            "method": "mail",
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Return.objects.count() == 0


def test_a_link_that_is_not_ours_is_not_found_and_counts_against_the_limit(client, shipped):
    # given / when
    answers = [
        client.get(reverse("customer_returns:start", args=[f"{shipped.number}.forged"]))
        for _ in range(11)
    ]
    # then
    assert [a.status_code for a in answers[:10]] == [404] * 10
    assert answers[10].status_code == 429


def test_another_orders_return_number_is_not_found(client, shipped):
    # given: a return of another order
    other_tee = product("TEE-9")
    stocked(other_tee, warehouse("DC-NORD"), 5)
    other = order_shipped([(other_tee, 1, "5.00")])
    line = OrderLine.objects.get(order=other)
    client.post(
        start_url(other),
        {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "other", "method": "mail"},
    )
    number = Return.objects.get().number
    # when
    response = client.get(
        reverse("customer_returns:slip", args=[tracking_token(shipped.number), number])
    )
    # then
    assert response.status_code == 404
