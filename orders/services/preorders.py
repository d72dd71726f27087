"""Pre-order products at capture: sold against incoming supply only, up to their cap.

Capture leaves a pre-order product's lines out of the shelf plan; what incoming supply cannot
promise (the cap is reached, or nothing more is on order) stays backordered with no promised
date, as the contract has it for any line nothing can serve. Such a line waits outside the
backorder sweep (orders.services.allocation.lines_wanting): it is filled when the product
stops being sold as a pre-order, or from the receipt of a purchase order it was promised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from inventory.incoming import Promised, Shortfall
from orders.models import Order, OrderEvent, OrderLine


def preorders_unpromised_events(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    shortfalls: Sequence[Shortfall],
    promised: Sequence[Promised],
    now: datetime,
) -> list[OrderEvent]:
    """Return one timeline entry naming each pre-order line that incoming supply could not
    promise in full (not written)."""
    given: dict[int, int] = defaultdict(int)
    for item in promised:
        given[item.order_line_id] += item.units
    short = {s.order_line_id: s.units - given[s.order_line_id] for s in shortfalls}
    events = []
    for line in lines:
        missing = short.get(line.pk, 0)
        if not line.product.preorder or missing <= 0:
            continue
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.NOTE,
                message=f"Pre-order: {missing} × {line.product.sku} could not be promised "
                "(the pre-order limit is reached or no more is on order); they wait "
                "with no date.",
                data={"preorder_unpromised": {"line": line.line_no, "units": missing}},
                created_at=now,
            )
        )
    return events
