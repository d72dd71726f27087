"""Reads about the outbox for the console and the alerts."""

from __future__ import annotations

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from outbox.models import Delivery, OutboxEvent, WebhookSubscription

DS = Delivery.Status


def outbox_health() -> dict:
    """Return `{"pending", "failed", "dead", "unrelayed"}` counts for the dashboard.

    Each count reads a partial index (deliveries waiting, dead ones, events not fanned out),
    so the cost follows what is outstanding, not the size of the history.
    """
    waiting = Delivery.objects.filter(status__in=Delivery.WAITING).aggregate(
        pending=Count("id", filter=Q(status=DS.PENDING)),
        failed=Count("id", filter=Q(status=DS.FAILED)),
    )
    return {
        "pending": waiting["pending"],
        "failed": waiting["failed"],
        "dead": Delivery.objects.filter(status=DS.DEAD).count(),
        "unrelayed": OutboxEvent.objects.filter(fanned_out=False).count(),
    }


def subscriptions_with_dead_deliveries() -> QuerySet[WebhookSubscription]:
    """Return the subscriptions with dead deliveries, each with `dead` (how many) and
    `last_dead_at` (the latest failed attempt among them)."""
    dead = Q(deliveries__status=DS.DEAD)
    return (
        WebhookSubscription.objects.filter(
            Exists(Delivery.objects.filter(subscription=OuterRef("pk"), status=DS.DEAD))
        )
        .annotate(
            dead=Count("deliveries", filter=dead),
            last_dead_at=Max("deliveries__last_attempt_at", filter=dead),
        )
        .select_related("location")
        .order_by("id")
    )
