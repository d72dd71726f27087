"""The `data` of `fulfilment.*` events: the fulfilment as the fulfilments endpoint shows it."""

from __future__ import annotations

from collections.abc import Sequence

from fulfilment.models import Fulfilment
from fulfilment.representation import (
    fulfilment_lines,
    fulfilment_representation,
    fulfilment_representation_read,
    fulfilments_for_output,
)
from inventory.models import Allocation
from outbox.emit import Draft
from outbox.events import FULFILMENT_REQUESTED, fulfilment_key


def fulfilment_draft(event: str, fulfilment_id: int) -> Draft:
    """Return `event` for a fulfilment as it is now in this transaction (read back)."""
    fulfilment = fulfilments_for_output().get(pk=fulfilment_id)
    return Draft(
        event,
        fulfilment_representation_read(fulfilment),
        fulfilment.location_id,
        fulfilment_key(fulfilment.pk),
    )


def fulfilments_requested_drafts(
    *, order, fulfilments: Sequence[Fulfilment], allocations: Sequence[Allocation]
) -> list[Draft]:
    """Return one `fulfilment.requested` per request, from rows just written (`allocations`
    with their order line and its product)."""
    by_fulfilment: dict[int, list[Allocation]] = {}
    for allocation in allocations:
        by_fulfilment.setdefault(allocation.fulfilment_id, []).append(allocation)
    return [
        Draft(
            FULFILMENT_REQUESTED,
            fulfilment_representation(
                fulfilment,
                order=order,
                lines=fulfilment_lines(by_fulfilment.get(fulfilment.pk, ())),
            ),
            fulfilment.location_id,
            fulfilment_key(fulfilment.pk),
        )
        for fulfilment in fulfilments
    ]
