"""Webhook subscriptions whose events died undelivered (outbox)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import CharField, Count, F, IntegerField, Max, Value
from django.db.models.functions import Cast, JSONObject

from alerts.evaluation.engine import HIT_COLUMNS, Hits
from alerts.models import Alert
from outbox.models import Delivery, WebhookSubscription

# Dead deliveries stay in the table for the record; only recent ones keep an alert open, so
# the alert clears a week after the receiver last lost an event.
RECENT = timedelta(days=7)


def webhooks_dead(*, now: datetime) -> Hits:
    """Active subscriptions with deliveries that died (gave up retrying) in the last week."""
    queryset = (
        WebhookSubscription.objects.filter(
            active=True,
            deliveries__status=Delivery.Status.DEAD,
            deliveries__last_attempt_at__gte=now - RECENT,
        )
        .annotate(
            dead=Count("deliveries"),
            last_dead_at=Max("deliveries__last_attempt_at"),
            alert_subject=Cast("pk", CharField()),
            alert_product=Value(None, IntegerField()),
            alert_location=F("location_id"),
            alert_order=Value(None, IntegerField()),
            alert_opens=Value(True),
        )
        .annotate(
            alert_details=JSONObject(
                subscription="pk", url="url", dead_events="dead", last_dead_at="last_dead_at"
            )
        )
        .values_list(*HIT_COLUMNS)
    )
    sql, params = queryset.query.sql_with_params()
    return Hits(kind=Alert.Kind.WEBHOOK_DEAD, sql=sql, params=list(params))
