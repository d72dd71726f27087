"""Reads that span tables: what can be sold, where.

Availability of one stock row is `on_hand - allocated - reserved - safety_stock`,
never below 0 (API.md). The functions here answer for many SKUs in one query,
so the availability endpoint and sourcing cost the same few queries whatever
the size of the basket.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from inventory.models import Location, StockLevel

if TYPE_CHECKING:
    from orders.models import Channel


def stock_rows(*, sku: str | None = None, location: str | None = None) -> QuerySet[StockLevel]:
    """Return stock rows with their product and location, optionally for one SKU or location."""
    rows = StockLevel.objects.select_related("product", "location")
    if sku is not None:
        rows = rows.filter(product__sku=sku)
    if location is not None:
        rows = rows.filter(location__code=location)
    return rows


def channel_location_q(channel: Channel, *, prefix: str = "") -> Q:
    """Return a filter on locations that may serve the channel, with no query of its own.

    A channel that names locations is served by those; one that names none is
    served by every location (API.md). Activity is filtered separately.
    """
    from orders.models import Channel

    through = Channel.locations.through
    own = through.objects.filter(channel_id=channel.pk)
    return Q(Exists(own.filter(location_id=OuterRef(f"{prefix}pk")))) | ~Q(Exists(own))


def available_by_location(
    *,
    skus: Iterable[str] | None = None,
    product_ids: Iterable[int] | None = None,
    channel: Channel | None = None,
    locations: Iterable[Location | int] | None = None,
) -> dict[str, dict[str, int]]:
    """Return the sellable units of each SKU at each location: `{sku: {code: units}}`.

    One query. Only active locations count, and only those that serve `channel`
    when one is given (a channel naming no locations is served by all), narrowed
    further to `locations` when given. A location with nothing to sell is left
    out; a SKU with nothing to sell anywhere (or unknown) is left out, so callers
    default to 0.

    The channel buffer (`Channel.buffer_percent`, `Channel.buffer_units`) is held
    back as follows:

    * the percentage per location: each location keeps back
      `floor(available * buffer_percent / 100)` of its own units;
    * the units once per SKU, from the network total: `buffer_units` are taken
      from the locations with the fewest sellable units first (ties by code), the
      thin shelves where the last units are likeliest to be gone already.

    So `sum(locations) == total` always, a SKU sells at most
    `total - buffer_units` across the network, and nothing goes below 0.
    """
    if skus is None and product_ids is None:
        raise TypeError("Give skus or product_ids.")
    rows = StockLevel.objects.with_available().filter(location__active=True, available_qty__gt=0)
    if skus is not None:
        rows = rows.filter(product__sku__in=set(skus))
    if product_ids is not None:
        rows = rows.filter(product_id__in=set(product_ids))
    if locations is not None:
        ids = {loc.pk if isinstance(loc, Location) else loc for loc in locations}
        rows = rows.filter(location_id__in=ids)
    if channel is not None:
        rows = rows.filter(channel_location_q(channel, prefix="location__"))
    found: dict[str, dict[str, int]] = {}
    for sku, code, units in rows.order_by().values_list(
        "product__sku", "location__code", "available_qty"
    ):
        found.setdefault(sku, {})[code] = units
    if channel is not None:
        found = {
            sku: held
            for sku, by_code in found.items()
            if (
                held := buffer_apply(
                    by_code, percent=channel.buffer_percent, units=channel.buffer_units
                )
            )
        }
    return {sku: dict(sorted(by_code.items())) for sku, by_code in found.items()}


def buffer_apply(by_code: dict[str, int], *, percent: Decimal | int, units: int) -> dict[str, int]:
    """Hold a channel's buffer back from one SKU's units per location (see above).

    Return only the locations left with something to sell.
    """
    # Hundredths of a percent, so the arithmetic stays in integers: 12.5 % -> 1250.
    basis_points = int(Decimal(percent) * 100)
    after = {code: n - n * basis_points // 10_000 for code, n in by_code.items()}
    remaining = units
    for code in sorted(after, key=lambda c: (after[c], c)):
        if remaining <= 0:
            break
        taken = min(after[code], remaining)
        after[code] -= taken
        remaining -= taken
    return {code: n for code, n in after.items() if n > 0}


def availability_for_skus(
    *, skus: Iterable[str], channel: Channel | None = None
) -> dict[str, dict]:
    """Return `{sku: {"available": n, "locations": {code: n}}}` for every SKU asked.

    A SKU that is unknown or has nothing to sell answers 0 with no locations:
    the question is "how many can I sell", and the answer is none.
    """
    skus = list(dict.fromkeys(skus))
    by_sku = available_by_location(skus=skus, channel=channel)
    answer = {}
    for sku in skus:
        by_code = by_sku.get(sku, {})
        answer[sku] = {"available": sum(by_code.values()), "locations": by_code}
    return answer
