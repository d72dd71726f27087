"""Which locations serve a channel. (What it may sell there: inventory.selectors.)"""

from __future__ import annotations

from django.db.models import QuerySet

from inventory.models import Location
from orders.models import Channel


def channel_locations(channel: Channel | None) -> QuerySet[Location]:
    """Return the active locations that serve a channel (all active ones when it names none)."""
    locations = Location.objects.filter(active=True)
    if channel is not None:
        named = list(channel.locations.values_list("pk", flat=True))
        if named:
            locations = locations.filter(pk__in=named)
    return locations
