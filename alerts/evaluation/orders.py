"""The order rules: fulfilments not accepted in time, orders that will miss their promised
date, backorders waiting too long. Written as querysets (the ORM's SQL, run set-based by
the engine): these tables hold the open work, not the whole history's worth of rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, CharField, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.db.models.query import QuerySet
from django.utils import timezone

from alerts.evaluation.engine import HIT_COLUMNS, Hits
from alerts.models import Alert, AlertPolicy
from fulfilment.models import Fulfilment
from orders.models import Order, OrderEvent
from orders.selectors import orders_at_risk

BACKORDERED = (Order.Status.BACKORDERED, Order.Status.PARTIALLY_ALLOCATED)


def queryset_hits(kind: str, queryset: QuerySet) -> Hits:
    """Return a rule's hits from a queryset of `hit_values` rows."""
    sql, params = queryset.query.sql_with_params()
    return Hits(kind=kind, sql=sql, params=list(params))


def hit_values(queryset: QuerySet, **details) -> QuerySet:
    """Return the queryset's rows as a rule's hit columns: its `alert_product`,
    `alert_location` and `alert_order` annotations, subject its pk, `details` from these."""
    return queryset.annotate(
        alert_subject=Cast("pk", CharField()),
        alert_opens=Value(True),
        alert_details=JSONObject(**details),
    ).values_list(*HIT_COLUMNS)


def unaccepted_fulfilments(policy: AlertPolicy, *, now: datetime) -> Hits:
    """Fulfilment requests still waiting for their location to accept them."""
    limit = policy.unaccepted_hours
    queryset = Fulfilment.objects.filter(
        status=Fulfilment.Status.REQUESTED, created_at__lt=now - timedelta(hours=limit)
    ).annotate(
        alert_product=Value(None, IntegerField()),
        alert_location=F("location_id"),
        alert_order=F("order_id"),
    )
    return queryset_hits(
        Alert.Kind.UNACCEPTED_FULFILMENT,
        hit_values(
            queryset,
            fulfilment="pk",
            requested_at="created_at",
            limit_hours=Value(limit),
            order="order__number",
        ),
    )


def _first_location():
    """The location of the order's first active fulfilment: whose staff should hear of it."""
    return Subquery(
        Fulfilment.objects.filter(order=OuterRef("pk"), status__in=Fulfilment.ACTIVE_STATUSES)
        .order_by("pk")
        .values("location_id")[:1]
    )


def late_orders(policy: AlertPolicy, *, now: datetime) -> Hits:
    """Orders the order pages call at risk (`orders.selectors.orders_at_risk`: promised
    for today or earlier and not yet gone, or waiting for stock with a promise, unless
    incoming supply still keeps the date the customer was told), looking
    `late_order_days_ahead` days ahead: one definition of late for the rule and the pages."""
    ahead = now + timedelta(days=policy.late_order_days_ahead)
    today = timezone.localdate(now)
    queryset = (
        orders_at_risk(now=ahead)
        .order_by()
        .annotate(
            alert_product=Value(None, IntegerField()),
            alert_location=_first_location(),
            alert_order=F("pk"),
            alert_late=Case(When(promised_date__lt=today, then=Value(True)), default=Value(False)),
        )
    )
    return queryset_hits(
        Alert.Kind.LATE_ORDER,
        hit_values(
            queryset,
            order="number",
            promised_date="promised_date",
            promised_to_customer="promised_to_customer",
            status="status",
            late="alert_late",
        ),
    )


def backorders(policy: AlertPolicy, *, now: datetime) -> Hits:
    """Orders waiting for stock for longer than the policy allows."""
    since = Coalesce(
        Subquery(
            OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.BACKORDERED)
            .order_by("-created_at")
            .values("created_at")[:1]
        ),
        F("created_at"),
    )
    queryset = (
        Order.objects.filter(status__in=BACKORDERED)
        .annotate(waiting_since=since)
        .filter(waiting_since__lt=now - timedelta(days=policy.backorder_days))
        .annotate(
            alert_product=Value(None, IntegerField()),
            alert_location=Value(None, IntegerField()),
            alert_order=F("pk"),
        )
    )
    return queryset_hits(
        Alert.Kind.BACKORDER,
        hit_values(
            queryset,
            order="number",
            status="status",
            waiting_since="waiting_since",
            limit_days=Value(policy.backorder_days),
        ),
    )
