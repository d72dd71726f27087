"""The console's returns: a location's queue, and receiving with a scanner."""

import pytest
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE, STORE_STAFF
from inventory.models import StockLevel
from returns.models import ReturnReceipt
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped, return_of

pytestmark = pytest.mark.django_db

PAGE = reverse("oms_console:returns")


@pytest.fixture
def world():
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS"), 10)
    store, other = StoreFactory(code="ST-RIVOLI"), StoreFactory(code="ST-LYON")
    order = order_shipped([(tee, 3, "19.90")])
    here = return_of(order, [(tee, 2)], location=store)
    there = return_of(order, [(tee, 1)], location=other)
    return tee, store, here, there


def test_store_staff_see_the_returns_expected_at_their_store_only(client, world):
    # given
    tee, store, here, there = world
    client.force_login(person("clerk", STORE_STAFF, store))
    # when
    response = client.get(PAGE)
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert here.number in body and there.number not in body


def test_a_scanned_return_is_received_unit_by_unit(client, world):
    # given
    tee, store, here, _ = world
    client.force_login(person("clerk", STORE_STAFF, store))
    # when: the number, then one scan per unit
    response = client.post(
        PAGE,
        {
            "number": here.number.lower(),
            "skus": "TEE-1\r\nTEE-1\r\n",
            "location": "ST-RIVOLI",
            "disposition": "restock",
        },
    )
    # then
    assert response.status_code == 302
    here.refresh_from_db()
    assert here.status == "received"
    assert StockLevel.objects.get(product=tee, location=store).on_hand == 2
    assert ReturnReceipt.objects.get().source == "console"
    page = client.get(response["Location"]).content.decode()
    assert "2 unit(s) received at ST-RIVOLI" in page


def test_too_many_scans_receive_nothing_and_say_why(client, world):
    tee, store, here, _ = world
    client.force_login(person("clerk", STORE_STAFF, store))
    response = client.post(
        PAGE,
        {"number": here.number, "skus": "TEE-1\nTEE-1\nTEE-1", "location": "ST-RIVOLI"},
        follow=True,
    )
    assert "Nothing was received" in response.content.decode()
    assert ReturnReceipt.objects.count() == 0


def test_staff_receive_only_at_their_own_locations(client, world):
    tee, store, here, _ = world
    client.force_login(person("clerk", STORE_STAFF, store))
    client.post(PAGE, {"number": here.number, "skus": "TEE-1", "location": "ST-LYON"})
    assert ReturnReceipt.objects.count() == 0


def test_the_to_refund_tab_lists_received_returns_without_a_refund(client, world):
    # given
    tee, store, here, _ = world
    client.force_login(person("service", CUSTOMER_SERVICE))
    client.post(PAGE, {"number": here.number, "skus": "TEE-1", "location": "ST-RIVOLI"})
    # when
    response = client.get(PAGE, {"tab": "to-refund"})
    # then
    assert here.number in response.content.decode()
