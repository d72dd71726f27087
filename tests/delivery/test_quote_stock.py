"""The one stock read of a quote answers what the two reads it replaced answered: the
shipping network's sellable units and the click & collect stores' units, each with the
channel buffer held back over its own network."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Location
from inventory.selectors import Candidates, available_by_location, quote_stock, sellable_stock
from orders.services.reservations import ReservedLine, reservation_create

pytestmark = pytest.mark.django_db


def test_quote_stock_matches_the_shipping_and_store_reads_with_a_buffer(net):
    # given: the web channel keeps 1 unit per SKU and 10 % back; an expired, unswept
    # reservation still counts 3 tees in `reserved`; Opera stops offering click & collect
    web = net["web"]
    web.buffer_units, web.buffer_percent = 1, Decimal("10")
    web.save(update_fields=["buffer_units", "buffer_percent"])
    reservation_create(
        channel=web,
        lines=[ReservedLine(net["tee"], 3)],
        now=timezone.now() - timedelta(hours=1),
    )
    Location.objects.filter(code="ST-OPERA").update(click_and_collect=False)
    ids = [net["tee"].pk, net["mug"].pk]
    stores = Location.objects.filter(active=True, click_and_collect=True)

    # when
    found = quote_stock(product_ids=ids, channel=web)

    # then
    shipping = sellable_stock(product_ids=ids, candidates=Candidates(channel=web))
    assert found.shipping == shipping
    by_sku = available_by_location(product_ids=ids, channel=web, locations=stores)
    assert found.pickup == {
        product.pk: by_sku[product.sku]
        for product in (net["tee"], net["mug"])
        if product.sku in by_sku
    }
    # the expired hold is sellable again, and the buffer was taken from each network apart
    # DC-PARIS: 10 sellable, 10 % (1) kept; the 1 unit kept per SKU comes from the thinner
    # shelf (Rivoli)
    assert found.shipping.units[net["tee"].pk] == {"DC-PARIS": 9, "ST-RIVOLI": 1}
    assert "ST-OPERA" not in found.pickup[net["tee"].pk]
    assert set(found.pickup[net["mug"].pk]) == {"ST-RIVOLI"}


def test_quote_stock_of_nothing_reads_nothing(net, django_assert_num_queries):
    with django_assert_num_queries(0):
        found = quote_stock(product_ids=[], channel=net["web"])
    assert (found.shipping.units, found.pickup) == ({}, {})
