"""Return figures read across tables: the one definition of a return rate, used by the
return-rate alert and the dashboard alike.

A return rate over a window is the units put on returns made in the window (cancelled
returns left out) over the units that reached customers in it (shipped or collected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from inventory.models import Allocation, Product, StockMovement
from orders.models import Channel
from returns.models import Refund, Return, ReturnLine

RATE_WINDOW_DAYS = 30


def rate_since(now: datetime) -> datetime:
    """Return the start of the return rate's window ending `now`."""
    return now - timedelta(days=RATE_WINDOW_DAYS)


@dataclass(frozen=True)
class Rate:
    """Units returned of units shipped, for a channel or a product."""

    code: str
    name: str
    shipped: int
    returned: int
    top_reason: str = ""

    @property
    def percent(self) -> Decimal | None:
        if not self.shipped:
            return None
        return (Decimal(100 * self.returned) / self.shipped).quantize(Decimal("0.1"))


def units_shipped(since: datetime) -> QuerySet[Allocation]:
    """Allocations whose units reached the customer since `since` (shipped or collected)."""
    return Allocation.objects.filter(status=Allocation.Status.SHIPPED).filter(
        Q(fulfilment__shipped_at__gte=since) | Q(fulfilment__collected_at__gte=since)
    )


def units_returned(since: datetime) -> QuerySet[ReturnLine]:
    """Lines of the returns made since `since`, cancelled returns left out."""
    return ReturnLine.objects.filter(return_request__created_at__gte=since).exclude(
        return_request__status=Return.Status.CANCELLED
    )


def _sum(queryset: QuerySet, group: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.filter(**{group: OuterRef("pk")})
            .order_by()
            .values(group)
            .annotate(units=Sum("quantity"))
            .values("units")
        ),
        Value(0),
        output_field=IntegerField(),
    )


def _top_reason(since: datetime) -> Subquery:
    return Subquery(
        units_returned(since)
        .filter(product=OuterRef("pk"))
        .order_by()
        .values("reason")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "reason")
        .values("reason")[:1]
    )


def products_returned(since: datetime) -> QuerySet[Any]:
    """Products with units on returns made since `since`, annotated with `returned`,
    `shipped` (since then) and `top_reason` (the reason of most of their returned units).
    Typed loosely: the annotations are what callers read and filter on."""
    returned = units_returned(since)
    return Product.objects.filter(pk__in=returned.values("product_id")).annotate(
        returned=_sum(returned, "product"),
        shipped=_sum(units_shipped(since), "stock__product"),
        top_reason=_top_reason(since),
    )


def return_rate_by_channel(*, since: datetime) -> list[Rate]:
    """Return each channel's return rate since `since`, channels that shipped or had
    returns only, highest rate first."""
    channels = Channel.objects.annotate(
        shipped=_sum(units_shipped(since), "order_line__order__channel"),
        returned=_sum(units_returned(since), "return_request__order__channel"),
    ).filter(Q(shipped__gt=0) | Q(returned__gt=0))
    rates = [Rate(c.code, c.name, c.shipped, c.returned) for c in channels]
    return sorted(rates, key=lambda r: (-(r.percent or 0), r.code))


def return_rate_top_products(*, since: datetime, limit: int = 10) -> list[Rate]:
    """Return the products with most units returned since `since`, with their rate and top
    reason."""
    products = products_returned(since).order_by("-returned", "sku")[:limit]
    return [Rate(p.sku, p.name, p.shipped, p.returned, p.top_reason or "") for p in products]


def return_reasons(*, since: datetime) -> list[tuple[str, int]]:
    """Return (reason label, units) of the returns made since `since`, most units first."""
    labels = dict(ReturnLine.Reason.choices)
    rows = (
        units_returned(since)
        .order_by()
        .values("reason")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "reason")
    )
    return [(labels.get(row["reason"], row["reason"]), row["units"]) for row in rows]


def refunds_since(since: datetime) -> list[tuple[str, int, Decimal]]:
    """Return (currency, refunds, amount) of the refunds recorded since `since`."""
    rows = (
        Refund.objects.filter(created_at__gte=since)
        .order_by()
        .values("currency")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("currency")
    )
    return [(row["currency"], row["n"], row["amount"]) for row in rows]


def units_restocked(since: datetime) -> int:
    """Return the units put back on hand from returns since `since` (the ledger's `return`
    movements)."""
    total = StockMovement.objects.filter(
        kind=StockMovement.Kind.RETURN, created_at__gte=since
    ).aggregate(units=Sum("quantity"))["units"]
    return total or 0
