"""Fulfilment figures for the dashboard: lead times, and the oldest work waiting."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median, quantiles

from django.db.models import Case, DurationField, ExpressionWrapper, F, IntegerField, Value, When
from django.utils import timezone

from console import charts
from console.selectors.time import days_back
from fulfilment.models import Fulfilment
from orders.selectors import requests_asked

LEAD_DAYS = 7
# Enough shipments for steady percentiles; a busier week is sampled from its latest ones.
LEAD_SAMPLE = 20_000
WAITING_SHOWN = 8
HOUR = timedelta(hours=1)


def lead_times(*, scope: frozenset[int] | None, now: datetime) -> dict:
    """Return how long shipped requests took from request to shipping, over the last week:
    median and 90th percentile overall, and the median of each day."""
    # Each day's start, oldest first; a row is told its day by number (a database-side date
    # or timestamp per row goes through a slow text parse: most of this figure's time).
    starts = [days_back(now, LEAD_DAYS - i) for i in range(LEAD_DAYS)]
    rows = Fulfilment.objects.filter(shipped_at__gte=starts[0])
    if scope is not None:
        rows = rows.filter(location_id__in=scope)
    sample = (
        rows.annotate(
            lead=ExpressionWrapper(F("shipped_at") - F("created_at"), output_field=DurationField()),
            day=Case(
                *(
                    When(shipped_at__gte=start, then=Value(i))
                    for i, start in reversed(list(enumerate(starts)))
                ),
                output_field=IntegerField(),
            ),
        )
        .order_by("-shipped_at")
        .values_list("day", "lead")[:LEAD_SAMPLE]
    )
    hours: list[float] = []
    by_day: dict[int, list[float]] = {}
    for day, lead in sample:
        taken = lead / HOUR
        hours.append(taken)
        by_day.setdefault(day, []).append(taken)
    days = sorted(by_day)
    return {
        "shipped": len(hours),
        "sampled": len(hours) >= LEAD_SAMPLE,
        "median": median(hours) if hours else None,
        "p90": quantiles(hours, n=10)[-1] if len(hours) >= 2 else (hours[0] if hours else None),
        "chart": charts.bars(
            [(f"{timezone.localtime(starts[day]):%a %d %b}", median(by_day[day])) for day in days],
            unit=" h",
            decimals=1,
        ),
    }


def waiting(*, scope: frozenset[int] | None, status: str) -> list[Fulfilment]:
    """Return the oldest requests in `status` at the person's locations."""
    rows = requests_asked(Fulfilment.objects.filter(status=status))
    if scope is not None:
        rows = rows.filter(location_id__in=scope)
    return list(
        rows.select_related("order", "location").order_by("created_at", "id")[:WAITING_SHOWN]
    )
