"""Click & collect by transfer: the seam between orders and the app that keeps transfers.

When the pickup store lacks part of a basket and the channel allows it (`pickup_transfer`),
capture holds those units where the plan found them with a real transfer to the store; the
order counts them as held while the transfer brings them, and is ready for pickup only once
they are received and allocated at the store. Orders sit below the app that keeps
transfers (supply), so they ask here; that app registers its answers from its
`AppConfig.ready`.

Every call runs in the caller's transaction. The house lock order holds: the order, then
its transfers, then stock rows by primary key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orders.models import Order, OrderEvent


@dataclass(frozen=True)
class Bound:
    """Units of an order line that a transfer brings to the pickup store from `source_id`."""

    order_line_id: int
    product_id: int
    source_id: int
    units: int


# request(order, bound units, actor, now) -> the timeline entries telling it (not written)
Requester = Callable[["Order", Sequence[Bound], Any, datetime], list["OrderEvent"]]
# awaiting(order id) -> {order line id: units still on their way to the store}
Awaiting = Callable[[int], dict[int, int]]
# cancel(order, actor) -> cancel the order's transfers not yet shipped
Canceller = Callable[["Order", Any], None]
# refused(order id) -> the locations whose transfer for the order was cancelled
Refused = Callable[[int], set[int]]

_requester: Requester | None = None
_awaiting: Awaiting | None = None
_canceller: Canceller | None = None
_refused: Refused | None = None


def pickup_transfers_register(
    *, request: Requester, awaiting: Awaiting, cancel: Canceller, refused: Refused
) -> None:
    global _requester, _awaiting, _canceller, _refused
    _requester, _awaiting, _canceller, _refused = request, awaiting, cancel, refused


def pickup_transfers_request(
    *, order: Order, bound: Sequence[Bound], actor: Any, now: datetime
) -> list[OrderEvent]:
    """Request one transfer per source location to the order's pickup store, holding the
    units there at once; return the timeline entries that tell it (not written)."""
    if not bound:
        return []
    if _requester is None:
        raise RuntimeError("no app keeps transfers: click & collect by transfer is off")
    return _requester(order, bound, actor, now)


def pickup_units_awaiting(order: Order) -> dict[int, int]:
    """Return, per order line, the units transfers not yet received bring to the order's
    pickup store (nothing for an order that is not click & collect)."""
    if _awaiting is None or order.pickup_location_id is None:
        return {}
    return _awaiting(order.pk)


def pickup_transfers_cancel(*, order: Order, actor: Any) -> None:
    """Cancel the order's transfers not yet shipped: their units are available again where
    they were held. Shipped ones carry on: received, their units join the store's stock."""
    if _canceller is not None and order.pickup_location_id is not None:
        _canceller(order, actor)


def pickup_sources_refused(order: Order) -> set[int]:
    """Return the locations whose transfer to the order's pickup store was cancelled before
    it shipped: like a location that rejected its request, none is asked again."""
    if _refused is None or order.pickup_location_id is None:
        return set()
    return _refused(order.pk)
