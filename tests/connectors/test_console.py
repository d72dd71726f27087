"""The console's storefront orders to fix: listed for customer service, replayed once fixed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from accounts.models import Membership
from accounts.roles import CUSTOMER_SERVICE, STORE_STAFF
from connectors.models import StorefrontOrder
from orders.models import Order
from tests.connectors.helpers import connect, send, shopify_order
from tests.orders.helpers import product, stocked, warehouse

pytestmark = pytest.mark.django_db


def _person(role: str, *, location=None) -> User:
    user = User.objects.create_user(
        role.replace(" ", "-"), password="pw-for-tests-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    if location is not None:
        Membership.objects.create(user=user, location=location)
    return user


@pytest.fixture
def waiting(client):
    """A Shopify order for a SKU the OMS does not have yet, waiting to be fixed."""
    wh = warehouse("WH")
    stocked(product("IPOD2008PINK"), wh, 10)
    connect("shop")
    payload = shopify_order()
    payload["line_items"][1]["sku"] = "NEW-SKU"
    send(client, payload)
    return StorefrontOrder.objects.get()


def test_customer_service_sees_the_queue_with_each_reason(
    client, waiting, django_assert_max_num_queries
):
    # given
    client.force_login(_person(CUSTOMER_SERVICE))
    # when
    with django_assert_max_num_queries(12):
        page = client.get(reverse("connectors_console:to-fix"))
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "820982911946154508" in html
    assert "Unknown SKU &#x27;NEW-SKU&#x27;" in html or "Unknown SKU 'NEW-SKU'" in html
    assert (
        "Storefront orders to fix" in client.get(reverse("oms_console:dashboard")).content.decode()
    )
    detail = client.get(reverse("connectors_console:to-fix-detail", args=[waiting.pk]))
    assert "&quot;NEW-SKU&quot;" in detail.content.decode()


def test_replay_after_the_sku_exists_places_the_order_and_empties_the_queue(client, waiting):
    # given
    client.force_login(_person(CUSTOMER_SERVICE))
    stocked(product("NEW-SKU"), warehouse("WH2"), 5)
    # when
    answer = client.post(reverse("connectors_console:to-fix-replay", args=[waiting.pk]))
    # then
    assert answer.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == StorefrontOrder.Status.APPLIED
    order = Order.objects.get(channel__code="shop")
    assert waiting.order == order
    listed = client.get(reverse("connectors_console:to-fix")).content.decode()
    assert "Nothing to fix." in listed


def test_a_replay_that_still_fails_says_why_and_stays_in_the_queue(client, waiting):
    client.force_login(_person(CUSTOMER_SERVICE))
    answer = client.post(
        reverse("connectors_console:to-fix-replay", args=[waiting.pk]), follow=True
    )
    assert "Still cannot be an order" in answer.content.decode()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (StorefrontOrder.Status.TO_FIX, 2)


def test_store_staff_cannot_see_or_replay_the_queue(client, waiting):
    client.force_login(_person(STORE_STAFF, location=warehouse("ST-1")))
    assert client.get(reverse("connectors_console:to-fix")).status_code == 403
    replay = client.post(reverse("connectors_console:to-fix-replay", args=[waiting.pk]))
    assert replay.status_code == 403
    waiting.refresh_from_db()
    assert waiting.attempts == 1
    assert (
        "Storefront orders to fix"
        not in client.get(reverse("oms_console:dashboard")).content.decode()
    )


def test_replay_is_a_post(client, waiting):
    client.force_login(_person(CUSTOMER_SERVICE))
    assert (
        client.get(reverse("connectors_console:to-fix-replay", args=[waiting.pk])).status_code
        == 405
    )
