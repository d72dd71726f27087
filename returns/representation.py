"""A return as the API, its events and the pages show it (docs/api.md, "Returns")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from core.api.values import moment, money
from orders.models import Order
from orders.order_returns import ATTRIBUTE
from returns.models import REASONS_RETAILER_FAULT, Refund, Return, ReturnLine


def returns_for_output() -> QuerySet[Return]:
    """Returns with everything their representation reads, in a fixed number of queries."""
    return Return.objects.select_related(
        "order__channel", "location", "exchange_order", "refund"
    ).prefetch_related("lines__product", "lines__order_line")


def returns_of_orders() -> Prefetch:
    """Return the prefetch of orders' returns, oldest first, with all their representation
    reads (each return's order is the order it is read with)."""
    return Prefetch(
        "returns",
        queryset=Return.objects.select_related("location", "exchange_order", "refund")
        .prefetch_related("lines__product", "lines__order_line")
        .order_by("created_at", "id"),
        to_attr=ATTRIBUTE,
    )


class LineFigures(NamedTuple):
    """What a return's answer shows of one of its lines, and the unit price it is refunded at.
    A tuple: a file's receipts draw ten thousand of them at once."""

    sku: str
    quantity: int
    received: int
    restocked: int
    damaged: int
    disposed: int
    reason: str
    unit_price: Decimal


class ReturnColumns(NamedTuple):
    """The columns of a return its answer shows: a `Return` has them, and a return read as a
    plain row (receipts written in bulk) is drawn from this tuple."""

    number: str
    status: str
    method: str
    resolution: str
    created_at: datetime
    updated_at: datetime


def _figures(line: ReturnLine) -> LineFigures:
    return LineFigures(
        sku=line.product.sku,
        quantity=line.quantity,
        received=line.received,
        restocked=line.restocked,
        damaged=line.damaged,
        disposed=line.disposed,
        reason=str(line.reason),
        unit_price=line.order_line.unit_price,
    )


def refund_due(lines: Sequence[LineFigures], shipping_price: Decimal | None) -> Decimal:
    """Return what the received units are worth at the order's prices, plus the delivery
    price once when a received unit came back through the retailer's fault."""
    amount = sum((line.received * line.unit_price for line in lines), start=Decimal("0"))
    if any(line.received and line.reason in REASONS_RETAILER_FAULT for line in lines):
        amount += shipping_price or Decimal("0")
    return amount.quantize(Decimal("0.01"))


def refund_computed(ret: Return, lines: list[ReturnLine]) -> Decimal:
    """`refund_due` of a return's lines read as rows (with their order line)."""
    return refund_due([_figures(line) for line in lines], ret.order.shipping_price)


def refund_representation(
    *,
    status: str,
    resolution: str,
    currency: str,
    lines: Sequence[LineFigures],
    shipping_price: Decimal | None,
    refund: Refund | None,
) -> dict:
    if refund is not None:
        return {"amount": money(refund.amount), "currency": refund.currency, "status": "refunded"}
    if status == Return.Status.CANCELLED or resolution != Return.Resolution.REFUND:
        return {"amount": money(0), "currency": currency, "status": "none"}
    amount = refund_due(lines, shipping_price)
    due = any(line.received for line in lines)
    return {"amount": money(amount), "currency": currency, "status": "due" if due else "none"}


def refund_of(ret: Return, lines: list[ReturnLine]) -> dict:
    """`refund_representation` of a return read as rows (its order, refund and lines' order
    lines loaded)."""
    return refund_representation(
        status=ret.status,
        resolution=ret.resolution,
        currency=ret.currency,
        lines=[_figures(line) for line in lines],
        shipping_price=ret.order.shipping_price,
        refund=getattr(ret, "refund", None) if _has_refund(ret) else None,
    )


def _has_refund(ret: Return) -> bool:
    try:
        ret.refund  # noqa: B018 - a reverse one-to-one raises when there is none
    except Return.refund.RelatedObjectDoesNotExist:
        return False
    return True


def return_in_memory(
    ret: Return, *, order: Order, lines: list[ReturnLine], exchange_order: Order | None
) -> None:
    """Give a return just written (received) what its representation reads, from rows the
    writer holds: it is answered and its event drawn with no second read. A return being
    received has no refund (a refund closes it)."""
    ret.order = order
    ret.exchange_order = exchange_order
    Return.refund.related.set_cached_value(ret, None)
    # As prefetch_related leaves it: `ret.lines.all()` answers these rows.
    cached = ret.lines.all()
    cached._result_cache = lines
    cached._prefetch_done = True  # type: ignore[attr-defined]
    ret._prefetched_objects_cache = {"lines": cached}  # type: ignore[attr-defined]


def return_representation(ret: Return) -> dict:
    """Return the return as the API shows it; `ret` read by `returns_for_output()`."""
    lines = [_figures(line) for line in ret.lines.all()]
    return return_body(
        ret,
        order_number=ret.order.number,
        location_code=ret.location.code if ret.location is not None else None,
        exchange_number=ret.exchange_order.number if ret.exchange_order is not None else None,
        lines=lines,
        refund=refund_representation(
            status=ret.status,
            resolution=ret.resolution,
            currency=ret.currency,
            lines=lines,
            shipping_price=ret.order.shipping_price,
            refund=getattr(ret, "refund", None) if _has_refund(ret) else None,
        ),
    )


def return_body(
    ret: Return | ReturnColumns,
    *,
    order_number: str,
    location_code: str | None,
    exchange_number: str | None,
    lines: Sequence[LineFigures],
    refund: dict,
) -> dict:
    """Return the answer's shape from a return's own columns (`ret` may be a row with only
    those loaded) and what it shows of its order, location, exchange, lines and refund: the
    one drawing of a return, for reads and for receipts written in bulk alike."""
    zone = timezone.get_current_timezone()
    return {
        "number": ret.number,
        "order": order_number,
        "status": str(ret.status),
        "method": str(ret.method),
        "location": location_code,
        "resolution": str(ret.resolution),
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "received": line.received,
                "restocked": line.restocked,
                "damaged": line.damaged,
                "disposed": line.disposed,
                "reason": line.reason,
            }
            for line in lines
        ],
        "refund": refund,
        "exchange_order": exchange_number,
        "created_at": moment(ret.created_at, zone),
        "updated_at": moment(ret.updated_at, zone),
    }


def return_read(return_id: int) -> dict:
    """Read a return back (in the current transaction) and represent it."""
    return return_representation(returns_for_output().get(pk=return_id))
