"""GET /api/v1/availability/?sku=A&sku=B&channel=."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.models import Channel
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = reverse("availability")


@pytest.fixture
def network():
    """SHIRT: 10 at DC (2 allocated), 3 at store ST; MUG: 1 at DC behind 1 safety stock."""
    shirt, mug = ProductFactory(sku="SHIRT"), ProductFactory(sku="MUG")
    dc, store = LocationFactory(code="DC"), StoreFactory(code="ST")
    stock_receive(product=shirt, location=dc, quantity=10)
    stock_receive(product=shirt, location=store, quantity=3)
    stock_receive(product=mug, location=dc, quantity=1)
    StockLevel.objects.filter(product=shirt, location=dc).update(allocated=2)
    StockLevel.objects.filter(product=mug).update(safety_stock=1)
    return dc, store


def test_it_answers_per_sku_with_locations(api, network):
    # when
    response = api.get(URL, {"sku": ["SHIRT", "MUG", "GHOST"]})
    # then
    assert response.status_code == 200
    assert response.json() == {
        "SHIRT": {"available": 11, "locations": {"DC": 8, "ST": 3}, "incoming": []},
        "MUG": {"available": 0, "locations": {}, "incoming": []},
        "GHOST": {"available": 0, "locations": {}, "incoming": []},
    }


def test_a_channel_limits_locations_and_holds_its_buffer(api, network):
    # given
    dc, store = network
    Channel.objects.get(code="store").locations.set([store])
    marketplace = Channel.objects.get(code="marketplace")
    marketplace.buffer_percent, marketplace.buffer_units = Decimal("25"), 1
    marketplace.save()
    # when
    stores = api.get(URL, {"sku": "SHIRT", "channel": "store"}).json()
    market = api.get(URL, {"sku": "SHIRT", "channel": "marketplace"}).json()
    # then
    assert stores == {"SHIRT": {"available": 3, "locations": {"ST": 3}, "incoming": []}}
    # DC 8 - floor(2) = 6; ST 3 - floor(0.75) = 3, less the 1 unit from the thinnest
    assert market == {"SHIRT": {"available": 8, "locations": {"DC": 6, "ST": 2}, "incoming": []}}


def test_an_unknown_channel_is_a_400_on_channel(api, network):
    # when
    response = api.get(URL, {"sku": "SHIRT", "channel": "carrier-pigeon"})
    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["channel"]


def test_no_sku_is_a_400_on_sku(api):
    # when
    response = api.get(URL)
    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["sku"]


def test_more_than_500_skus_is_a_400_on_sku(api):
    # when
    response = api.get(URL, {"sku": [f"S{n}" for n in range(501)]})
    # then
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]


def test_a_basket_costs_the_same_few_queries(api, network, django_assert_max_num_queries):
    # when / then: token, channel, availability, incoming supply by date
    with django_assert_max_num_queries(4):
        response = api.get(
            URL, {"sku": ["SHIRT", "MUG"] + [f"X{n}" for n in range(50)], "channel": "web"}
        )
    assert response.status_code == 200


def test_without_a_token_it_is_a_401(anonymous_api):
    assert anonymous_api.get(URL, {"sku": "SHIRT"}).status_code == 401
