"""Builders for outbound tests: subscriptions, and orders placed through the service."""

from __future__ import annotations

from inventory.models import Location
from orders.models import Order
from outbox.events import EVENT_TYPES
from outbox.models import WebhookSubscription
from outbox.services import subscription_create
from tests.orders.helpers import place, product, stocked, warehouse

SECRET = "whsec-test-0123456789abcdef"


def subscribed(url: str, *, events=EVENT_TYPES, location: Location | None = None):
    return subscription_create(url=url, secret=SECRET, events=list(events), location=location)


def an_order(sku: str = "TEE-1", *, location: Location | None = None, quantity: int = 1) -> Order:
    """Place an order for `quantity` units that `location` (made if None) holds."""
    location = location or warehouse("DC-PARIS")
    stocked(item := product(sku), location, 10)
    return place([(item, quantity)])


__all__ = ["SECRET", "WebhookSubscription", "an_order", "subscribed"]
