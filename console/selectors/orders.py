"""Order figures for the dashboard: today's orders, promises at risk, logistics costs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connections
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from console import charts
from console.queues import of_locations
from console.selectors.time import days_back, today_start
from core.paginators import capped_count
from fulfilment.models import Fulfilment
from inventory.models import Location
from orders import selectors
from orders.models import Channel, Order, OrderEvent

AT_RISK_SHOWN = 10
# Counting stops here: a number past it reads "1,000+" and costs no more to get.
COUNT_CAP = 1000
COST_DAYS = 7


def scoped_orders(
    scope: frozenset[int] | None, *, since: datetime | None = None
) -> QuerySet[Order]:
    """Return the orders the locations of `scope` work on (all for None), created since
    `since` if given.

    The bound is put on the fulfilments too (a request is made after its order): a store's
    requests of today are an index range, all of them a few thousand rows hashed per query.
    """
    rows = Order.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if scope is None:
        return rows
    at = Fulfilment.objects.filter(location_id__in=scope)
    if since is not None:
        at = at.filter(created_at__gte=since)
    return rows.filter(Q(pickup_location_id__in=scope) | Q(pk__in=at.values("order_id")))


def orders_today(*, scope: frozenset[int] | None, now: datetime) -> dict:
    """Return today's orders by channel and status, with a stacked bar chart."""
    counts = (
        scoped_orders(scope, since=today_start(now))
        .order_by()
        .values_list("channel_id", "status")
        .annotate(n=Count("id"))
    )
    names = dict(Channel.objects.values_list("pk", "name"))
    by_channel: dict[str, dict[str, int]] = defaultdict(dict)
    by_status: dict[str, int] = defaultdict(int)
    for channel_id, status, n in counts:
        by_channel[names.get(channel_id, "?")][status] = n
        by_status[status] += n
    channels = sorted(by_channel, key=lambda name: -sum(by_channel[name].values()))
    return {
        "total": sum(by_status.values()),
        "by_status": [
            (label, by_status[value]) for value, label in Order.Status.choices if by_status[value]
        ],
        "chart": charts.stacked(channels, Order.Status.choices, by_channel),
    }


def orders_at_risk(*, scope: frozenset[int] | None, now: datetime) -> dict:
    """Return the orders at risk of missing their promise (orders.selectors): how many, how
    many of them already late, and the oldest promises."""
    at_risk = selectors.orders_at_risk(now=now)
    late = selectors.orders_late(now=now)
    if scope is not None:
        at_risk, late = at_risk.filter(of_locations(scope)), late.filter(of_locations(scope))
    return {
        "late": capped_count(late, COUNT_CAP),
        "at_risk": capped_count(at_risk, COUNT_CAP),
        "cap": COUNT_CAP,
        "orders": list(at_risk.select_related("channel")[:AT_RISK_SHOWN]),
    }


def logistics_costs(*, scope: frozenset[int] | None, now: datetime) -> dict:
    """Return the logistics cost per order by day (last week) and per location (today).

    Per order: `Order.logistics_cost`, what sourcing chose. Per location: the cost parts of
    each location in today's sourcing decisions (shipment, distance, units, split share).
    """
    per_day = (
        scoped_orders(scope, since=days_back(now, COST_DAYS))
        .filter(logistics_cost__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by("day")
        .values("day")
        .annotate(average=Avg("logistics_cost"), total=Sum("logistics_cost"), orders=Count("id"))
    )
    days = list(per_day)
    decisions = OrderEvent.objects.filter(
        kind=OrderEvent.Kind.ALLOCATED, order__created_at__gte=today_start(now)
    ).order_by()
    if scope is not None:
        decisions = decisions.filter(
            order__in=scoped_orders(scope, since=today_start(now)).values("pk")
        )
    shown = (
        None
        if scope is None
        else set(Location.objects.filter(pk__in=scope).values_list("code", flat=True))
    )
    by_location = {
        code: {"cost": cost, "units": units, "shipments": shipments}
        for code, cost, units, shipments in _cost_parts_by_location(decisions)
        if shown is None or code in shown
    }
    locations = sorted(by_location.items(), key=lambda item: -item[1]["cost"])
    today = days[-1] if days and days[-1]["day"] == timezone.localdate(now) else None
    return {
        "days": days,
        "today": today,
        "week_average": (
            sum(d["total"] for d in days) / sum(d["orders"] for d in days) if days else None
        ),
        "day_chart": charts.bars(
            [(f"{d['day']:%a %d %b}", float(d["average"])) for d in days], decimals=2
        ),
        "locations": [
            {**entry, "code": code, "per_shipment": entry["cost"] / entry["shipments"]}
            for code, entry in locations[:15]
        ],
        "location_chart": charts.bars(
            [(code, float(entry["cost"])) for code, entry in locations[:15]], decimals=2
        ),
    }


# Each location's parts of the decisions, summed by PostgreSQL: one row per location instead
# of every decision's document decoded in Python (thousands a day).
_PARTS_SQL = """
SELECT COALESCE(part ->> 'location', '?'),
       SUM(CASE WHEN jsonb_typeof(part -> 'total') = 'number'
                THEN (part ->> 'total')::numeric ELSE 0 END),
       SUM(CASE WHEN jsonb_typeof(part -> 'units') = 'number'
                THEN (part ->> 'units')::numeric ELSE 0 END),
       COUNT(*)
FROM ({decisions}) AS decision (parts)
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(decision.parts) = 'array' THEN decision.parts ELSE '[]' END
) AS part
WHERE jsonb_typeof(part) = 'object'
GROUP BY 1
"""


def _cost_parts_by_location(decisions: QuerySet[OrderEvent]) -> list[tuple[str, Decimal, int, int]]:
    """Return (location code, cost, units, shipments) summed over the decisions' parts."""
    parts = decisions.values_list("data__explanation__locations", flat=True)
    connection = connections[decisions.db]
    if connection.vendor == "postgresql":
        sql, params = parts.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(_PARTS_SQL.format(decisions=sql), params)
            return [
                (code, Decimal(cost), int(units), shipments)
                for code, cost, units, shipments in cursor.fetchall()
            ]
    return _sum_parts(parts)


def _sum_parts(documents: Iterable) -> list[tuple[str, Decimal, int, int]]:
    """Sum decisions' location parts in Python, as _PARTS_SQL does (other databases)."""
    totals: dict[str, list] = {}
    for found in documents:
        for part in found if isinstance(found, list) else ():
            if not isinstance(part, dict):
                continue
            entry = totals.setdefault(part.get("location", "?"), [Decimal(0), 0, 0])
            total, units = part.get("total"), part.get("units")
            entry[0] += Decimal(str(total)) if isinstance(total, int | float) else Decimal(0)
            entry[1] += int(units) if isinstance(units, int | float) else 0
            entry[2] += 1
    return [(code, cost, units, shipments) for code, (cost, units, shipments) in totals.items()]
