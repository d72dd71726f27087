"""Allowed status transitions of a return, as data, and the guard that enforces them."""

from __future__ import annotations

from returns.exceptions import ReturnConflict
from returns.models import Return

S = Return.Status
RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.REFUNDED, S.CANCELLED}),
    S.PARTIALLY_RECEIVED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.REFUNDED}),
    S.RECEIVED: frozenset({S.REFUNDED}),
    # A refund closes the return: the payment is made on what it was recorded for.
    S.REFUNDED: frozenset(),
    S.CANCELLED: frozenset(),
}


def return_ensure_can_become(ret: Return, status: str) -> None:
    if status not in RETURN_TRANSITIONS[ret.status]:
        raise ReturnConflict(
            f"Return {ret.number} is {Return.Status(ret.status).label.lower()}; "
            f"it cannot become {Return.Status(status).label.lower()}.",
            field="status",
        )
