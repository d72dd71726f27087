"""The return rules: returns not received in time, received returns whose refund waits, and
products returned often (returns.selectors holds the one definition of a return rate).
Querysets run set-based by the engine, like the order rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, IntegerField, Value

from alerts.evaluation.engine import Hits
from alerts.evaluation.orders import hit_values, queryset_hits
from alerts.models import Alert, AlertPolicy
from returns.models import Return
from returns.selectors import RATE_WINDOW_DAYS, products_returned, rate_since

RS = Return.Status


def returns_not_received(policy: AlertPolicy, *, now: datetime) -> Hits:
    """Returns whose units have not all arrived `return_receipt_days` after they were made:
    the staff where they are expected hear of it."""
    limit = policy.return_receipt_days
    queryset = Return.objects.filter(
        status__in=[RS.REQUESTED, RS.PARTIALLY_RECEIVED],
        created_at__lt=now - timedelta(days=limit),
    ).annotate(
        alert_product=Value(None, IntegerField()),
        alert_location=F("location_id"),
        alert_order=F("order_id"),
    )
    return queryset_hits(
        Alert.Kind.RETURN_NOT_RECEIVED,
        hit_values(
            queryset,
            number="number",
            order="order__number",
            status="status",
            made_at="created_at",
            limit_days=Value(limit),
        ),
    )


def returns_not_refunded(policy: AlertPolicy, *, now: datetime) -> Hits:
    """Returns to refund (not exchanges) that received units `return_refund_days` ago and
    have no refund recorded: customer service's work, at no location."""
    limit = policy.return_refund_days
    queryset = Return.objects.filter(
        status__in=[RS.PARTIALLY_RECEIVED, RS.RECEIVED],
        resolution=Return.Resolution.REFUND,
        refund__isnull=True,
        received_at__lt=now - timedelta(days=limit),
    ).annotate(
        alert_product=Value(None, IntegerField()),
        alert_location=Value(None, IntegerField()),
        alert_order=F("order_id"),
    )
    return queryset_hits(
        Alert.Kind.RETURN_NOT_REFUNDED,
        hit_values(
            queryset,
            number="number",
            order="order__number",
            received_at="received_at",
            limit_days=Value(limit),
        ),
    )


def return_rates(policy: AlertPolicy, *, now: datetime) -> Hits:
    """Products whose return rate over the last 30 days passes the policy's share, once
    they shipped enough units for the rate to mean something; with their top reason."""
    percent = policy.return_rate_percent
    queryset = (
        products_returned(rate_since(now))
        # In integers: returned / shipped > percent / 100.
        .alias(
            returned_scaled=F("returned") * 100,
            shipped_scaled=F("shipped") * Value(percent),
        )
        .filter(
            shipped__gte=max(policy.return_rate_min_shipped, 1),
            returned_scaled__gt=F("shipped_scaled"),
        )
        .annotate(
            alert_product=F("pk"),
            alert_location=Value(None, IntegerField()),
            alert_order=Value(None, IntegerField()),
        )
    )
    return queryset_hits(
        Alert.Kind.RETURN_RATE,
        hit_values(
            queryset,
            sku="sku",
            returned="returned",
            shipped="shipped",
            top_reason="top_reason",
            threshold_percent=Value(percent),
            window_days=Value(RATE_WINDOW_DAYS),
        ),
    )
