"""A return as the API, its events and the pages show it (docs/api.md, "Returns")."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from core.api.values import moment, money
from orders.models import Order
from orders.order_returns import ATTRIBUTE
from returns.models import Return, ReturnLine


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


def refund_computed(ret: Return, lines: list[ReturnLine]) -> Decimal:
    """Return what the received units are worth at the order's prices, plus the delivery
    price once when a received unit came back through the retailer's fault."""
    amount = sum((line.received * line.order_line.unit_price for line in lines), start=Decimal("0"))
    if any(line.received and line.retailer_fault for line in lines):
        amount += ret.order.shipping_price or Decimal("0")
    return amount.quantize(Decimal("0.01"))


def refund_representation(ret: Return, lines: list[ReturnLine]) -> dict:
    refund = getattr(ret, "refund", None) if _has_refund(ret) else None
    if refund is not None:
        return {"amount": money(refund.amount), "currency": refund.currency, "status": "refunded"}
    if ret.status == Return.Status.CANCELLED or ret.resolution != Return.Resolution.REFUND:
        return {"amount": money(0), "currency": ret.currency, "status": "none"}
    amount = refund_computed(ret, lines)
    due = any(line.received for line in lines)
    return {"amount": money(amount), "currency": ret.currency, "status": "due" if due else "none"}


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
    zone = timezone.get_current_timezone()
    lines = list(ret.lines.all())
    return {
        "number": ret.number,
        "order": ret.order.number,
        "status": str(ret.status),
        "method": str(ret.method),
        "location": ret.location.code if ret.location is not None else None,
        "resolution": str(ret.resolution),
        "lines": [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "received": line.received,
                "restocked": line.restocked,
                "damaged": line.damaged,
                "disposed": line.disposed,
                "reason": str(line.reason),
            }
            for line in lines
        ],
        "refund": refund_representation(ret, lines),
        "exchange_order": ret.exchange_order.number if ret.exchange_order is not None else None,
        "created_at": moment(ret.created_at, zone),
        "updated_at": moment(ret.updated_at, zone),
    }


def return_read(return_id: int) -> dict:
    """Read a return back (in the current transaction) and represent it."""
    return return_representation(returns_for_output().get(pk=return_id))
