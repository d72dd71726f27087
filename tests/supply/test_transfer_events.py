"""A transfer's events reach the subscriptions of both its locations, and no other
location's."""

import pytest

from inventory.services import stock_receive
from outbox.models import Delivery
from outbox.relay import events_fan_out
from outbox.services import subscription_create
from supply.services.transfers import TransferLineInput, transfer_create, transfer_ship
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

EVENTS = ["transfer.requested", "transfer.shipped", "transfer.received"]


def test_transfer_events_reach_both_locations_and_the_whole_network_once():
    # given: subscriptions at from, at to, at a third location, and one for every location
    dc, store, other = LocationFactory(code="DC"), StoreFactory(code="ST"), StoreFactory(code="X")
    shirt = ProductFactory(sku="SHIRT")
    stock_receive(product=shirt, location=dc, quantity=5)
    subscriptions = {
        name: subscription_create(
            url=f"https://{name}.example.com/hooks", secret="s" * 32, events=EVENTS, location=at
        )
        for name, at in (("from", dc), ("to", store), ("other", other), ("network", None))
    }
    # when
    transfer = transfer_create(
        source=dc, destination=store, lines=[TransferLineInput(product=shirt, quantity=2)]
    )
    transfer_ship(transfer_id=transfer.pk)
    events_fan_out()
    # then: two events each for from, to and the network; none for the other store
    received = {
        name: sorted(
            Delivery.objects.filter(subscription=subscription).values_list(
                "event__event", flat=True
            )
        )
        for name, subscription in subscriptions.items()
    }
    both = ["transfer.requested", "transfer.shipped"]
    assert received == {"from": both, "to": both, "other": [], "network": both}
