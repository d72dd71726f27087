"""Promises against incoming supply: the seam between order capture and purchase orders.

An order line the shelves cannot fill may be promised units that a purchase order will
deliver. Orders (above inventory) ask here; the app that keeps purchase orders (above
orders) answers, having registered its promiser from its `AppConfig.ready`. So neither
imports the other, and with no promiser registered nothing is promised.

The promiser runs in the caller's transaction and locks the purchase-order lines it
promises from (after the stock rows the caller holds), so that no incoming unit is
promised twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from inventory.selectors import Candidates


@dataclass(frozen=True)
class Shortfall:
    """Units of one order line that the shelves could not give."""

    order_line_id: int
    product_id: int
    units: int


@dataclass(frozen=True)
class Promised:
    """Units of an order line promised from supply arriving at a location on a date."""

    order_line_id: int
    location_id: int
    expected_on: date
    units: int


# promiser(shortfalls, the locations that may serve the order) -> what it promised
Promiser = Callable[[Sequence[Shortfall], Candidates], list[Promised]]
_promiser: Promiser | None = None


def incoming_promiser_register(promiser: Promiser) -> None:
    global _promiser
    _promiser = promiser


def incoming_promise(*, shortfalls: Sequence[Shortfall], candidates: Candidates) -> list[Promised]:
    """Promise open, not yet promised incoming units to these shortfalls, earliest supply
    first; return what was promised (nothing when no promiser is registered)."""
    shortfalls = [s for s in shortfalls if s.units > 0]
    if _promiser is None or not shortfalls:
        return []
    return _promiser(shortfalls, candidates)


@dataclass(frozen=True)
class Free:
    """Units of a purchase-order line still expected and promised to no waiting order."""

    line_id: int  # the purchase-order line
    product_id: int
    location_id: int
    expected_on: date
    units: int


def incoming_take(
    shortfalls: Sequence[Shortfall],
    free: Sequence[Free],
    room: Mapping[int, int] | None = None,
) -> list[tuple[Shortfall, Free, int]]:
    """Share `free` (earliest expected first) among `shortfalls`, in their order: each takes
    what it lacks from the earliest lines of its product that still have units. A product
    in `room` (a pre-order product: `preorder_room`) takes no more than its room, shared
    among its shortfalls in their order. Return (shortfall, line, units) for every take. The
    one rule of who gets which incoming unit, for a promise and for a quote alike."""
    left = [line.units for line in free]
    room = dict(room or {})
    taken: list[tuple[Shortfall, Free, int]] = []
    for shortfall in shortfalls:
        wanted = shortfall.units
        if shortfall.product_id in room:
            wanted = min(wanted, room[shortfall.product_id])
            room[shortfall.product_id] -= wanted
        for index, line in enumerate(free):
            if wanted <= 0:
                break
            if line.product_id != shortfall.product_id or left[index] <= 0:
                continue
            units = min(wanted, left[index])
            left[index] -= units
            wanted -= units
            taken.append((shortfall, line, units))
    return taken


# free(product ids, the locations that may serve the order) -> earliest expected first
FreeReader = Callable[[Sequence[int], Candidates], list[Free]]
_free_reader: FreeReader | None = None


def incoming_free_register(reader: FreeReader) -> None:
    global _free_reader
    _free_reader = reader


def incoming_free(*, product_ids: Sequence[int], candidates: Candidates) -> list[Free]:
    """Return the open incoming units of these products, at the locations that may serve
    the order, that no waiting order was promised, earliest expected first (nothing when no
    app keeps purchase orders). A read for a quote: nothing is held."""
    if _free_reader is None or not product_ids:
        return []
    return _free_reader(product_ids, candidates)


@dataclass(frozen=True)
class IncomingDay:
    """What open purchase orders bring on one day, and how much of it is already promised
    to backordered orders (units expected before the first day count on the first day)."""

    day: date
    incoming: int
    promised: int


# projection(product id, the locations to count (None: all), first day, days) -> one per day
Projection = Callable[[int, frozenset[int] | None, date, int], list[IncomingDay]]
_projection: Projection | None = None


def incoming_projection_register(projection: Projection) -> None:
    global _projection
    _projection = projection


def incoming_projection(
    *, product_id: int, location_ids: frozenset[int] | None, start: date, days: int
) -> list[IncomingDay]:
    """Return the product's incoming and promised units per day from `start` for `days`
    days (all zero when no app keeps purchase orders)."""
    if _projection is None:
        return [IncomingDay(start + timedelta(days=n), 0, 0) for n in range(days)]
    return _projection(product_id, location_ids, start, days)


# promised(product ids) -> {product id: units promised to orders in total}
PromisedTotal = Callable[[Collection[int]], dict[int, int]]
_promised_total: PromisedTotal | None = None


def incoming_promised_total_register(reader: PromisedTotal) -> None:
    global _promised_total
    _promised_total = reader


def incoming_promised_total(*, product_ids: Collection[int]) -> dict[int, int]:
    """Return, per product, the incoming units promised to orders that are not cancelled:
    promises still waiting and promises their receipt fulfilled. A pre-order product's cap
    bounds this figure (empty when no app keeps purchase orders)."""
    if _promised_total is None or not product_ids:
        return {}
    return _promised_total(product_ids)


# release(order line id, units to keep) -> units released
Releaser = Callable[[int, int], int]
_releaser: Releaser | None = None


def incoming_release_register(releaser: Releaser) -> None:
    global _releaser
    _releaser = releaser


def incoming_release(*, order_line_id: int, keep: int) -> int:
    """Give back what the line was promised of incoming supply beyond `keep` units (units
    of it cancelled): other orders may be promised them, and a pre-order product's cap no
    longer counts them. Return the units released (nothing when no app keeps purchase
    orders). The caller holds the order's lock."""
    if _releaser is None:
        return 0
    return _releaser(order_line_id, max(0, keep))


def preorder_room(*, caps: Mapping[int, int]) -> dict[int, int]:
    """Return, for each pre-order product in `caps` ({product id: its cap}), how many more
    incoming units its cap lets orders be promised: the cap less what is promised already
    (`incoming_promised_total`). Capture reads it under the products' locks; a quote reads
    it as it stands."""
    if not caps:
        return {}
    promised = incoming_promised_total(product_ids=list(caps))
    return {pk: max(0, cap - promised.get(pk, 0)) for pk, cap in caps.items()}
