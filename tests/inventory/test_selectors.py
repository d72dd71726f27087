"""Availability: what can be sold, per SKU and location, for a channel."""

from decimal import Decimal

import pytest

from inventory.models import Location, StockLevel
from inventory.selectors import (
    availability_for_skus,
    available_by_location,
    buffer_apply,
)
from inventory.services import stock_receive
from orders.models import Channel
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


def _put(product, location, on_hand, **balances):
    stock_receive(product=product, location=location, quantity=on_hand)
    if balances:
        StockLevel.objects.filter(product=product, location=location).update(**balances)


def test_available_is_on_hand_less_allocated_reserved_and_safety_stock():
    # given
    shirt, dc = ProductFactory(sku="SHIRT"), LocationFactory(code="DC")
    _put(shirt, dc, 20, allocated=3, reserved=2, safety_stock=4)
    # when
    found = available_by_location(skus=["SHIRT"])
    # then
    assert found == {"SHIRT": {"DC": 11}}


def test_a_row_below_zero_counts_as_zero_and_does_not_lower_others():
    # given
    shirt = ProductFactory(sku="SHIRT")
    dc, store = LocationFactory(code="DC"), StoreFactory(code="ST")
    _put(shirt, dc, 5)
    _put(shirt, store, 2, safety_stock=6)
    # when
    answer = availability_for_skus(skus=["SHIRT"])
    # then
    assert answer == {"SHIRT": {"available": 5, "locations": {"DC": 5}, "incoming": []}}


def test_inactive_locations_are_left_out():
    # given
    shirt = ProductFactory(sku="SHIRT")
    _put(shirt, LocationFactory(code="OPEN"), 5)
    _put(shirt, LocationFactory(code="CLOSED", active=False), 7)
    # when / then
    assert available_by_location(skus=["SHIRT"]) == {"SHIRT": {"OPEN": 5}}


def test_an_unknown_or_empty_sku_answers_zero():
    # given
    ProductFactory(sku="NONE-ON-HAND")
    # when
    answer = availability_for_skus(skus=["NONE-ON-HAND", "NEVER-HEARD-OF"])
    # then
    assert answer == {
        "NONE-ON-HAND": {"available": 0, "locations": {}, "incoming": []},
        "NEVER-HEARD-OF": {"available": 0, "locations": {}, "incoming": []},
    }


def test_a_channel_naming_locations_is_served_only_by_them():
    # given
    shirt = ProductFactory(sku="SHIRT")
    dc, store = LocationFactory(code="DC"), StoreFactory(code="ST")
    _put(shirt, dc, 10)
    _put(shirt, store, 3)
    channel = Channel.objects.get(code="store")
    channel.locations.set([store])
    # when / then
    assert available_by_location(skus=["SHIRT"], channel=channel) == {"SHIRT": {"ST": 3}}


def test_a_channel_naming_no_locations_is_served_by_every_active_one():
    # given
    shirt = ProductFactory(sku="SHIRT")
    _put(shirt, LocationFactory(code="DC"), 10)
    _put(shirt, StoreFactory(code="ST"), 3)
    _put(shirt, StoreFactory(code="SHUT", active=False), 4)
    # a location that serves another channel only still serves this one
    Channel.objects.get(code="store").locations.set(Location.objects.filter(kind="store"))
    # when / then
    web = Channel.objects.get(code="web")
    assert available_by_location(skus=["SHIRT"], channel=web) == {"SHIRT": {"DC": 10, "ST": 3}}


def test_a_channel_buffer_holds_back_a_percentage_per_location_and_units_once():
    # given: 10 % and 2 units held back from the marketplace
    shirt = ProductFactory(sku="SHIRT")
    _put(shirt, LocationFactory(code="DC"), 100)
    _put(shirt, StoreFactory(code="ST-A"), 5)
    _put(shirt, StoreFactory(code="ST-B"), 1)
    channel = Channel.objects.get(code="marketplace")
    channel.buffer_percent, channel.buffer_units = Decimal("10"), 2
    channel.save()
    # when
    answer = availability_for_skus(skus=["SHIRT"], channel=channel)
    # then: DC 100-10 = 90, ST-A 5-0 = 5, ST-B 1-0 = 1; 2 units from the thinnest first
    assert answer == {
        "SHIRT": {"available": 94, "locations": {"DC": 90, "ST-A": 4}, "incoming": []}
    }


def test_a_buffer_larger_than_the_stock_leaves_zero_not_less():
    # given
    shirt = ProductFactory(sku="SHIRT")
    _put(shirt, LocationFactory(code="DC"), 3)
    channel = Channel.objects.get(code="marketplace")
    channel.buffer_units = 5
    channel.save()
    # when / then
    assert availability_for_skus(skus=["SHIRT"], channel=channel) == {
        "SHIRT": {"available": 0, "locations": {}, "incoming": []}
    }


@pytest.mark.parametrize(
    "by_code, percent, units, expected",
    [
        ({"A": 10}, 0, 0, {"A": 10}),
        ({"A": 10}, Decimal("12.5"), 0, {"A": 9}),  # floor(1.25) = 1 held back
        ({"A": 9}, 10, 0, {"A": 9}),  # floor(0.9) = 0 held back
        ({"A": 10}, 100, 0, {}),
        ({"A": 4, "B": 4}, 0, 5, {"B": 3}),  # ties taken in code order
        ({"A": 1, "B": 10}, 0, 3, {"B": 8}),
    ],
)
def test_buffer_apply(by_code, percent, units, expected):
    assert buffer_apply(by_code, percent=percent, units=units) == expected


def test_it_answers_many_skus_in_one_query(django_assert_num_queries):
    # given
    locations = [LocationFactory() for _ in range(5)]
    products = [ProductFactory() for _ in range(20)]
    for product in products:
        for location in locations:
            _put(product, location, 2)
    channel = Channel.objects.get(code="web")
    # when
    with django_assert_num_queries(1):
        found = available_by_location(skus=[p.sku for p in products], channel=channel)
    # then
    assert len(found) == 20
    assert all(sum(by_code.values()) == 10 for by_code in found.values())


def test_it_takes_product_ids_and_narrows_to_given_locations():
    # given
    shirt = ProductFactory(sku="SHIRT")
    dc, store = LocationFactory(code="DC"), StoreFactory(code="ST")
    _put(shirt, dc, 4)
    _put(shirt, store, 3)
    # when / then
    assert available_by_location(product_ids=[shirt.pk], locations=[store]) == {"SHIRT": {"ST": 3}}
