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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

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
