"""The `stock.low` outbound event (outbox), written with the alert it tells."""

from __future__ import annotations

from collections.abc import Sequence

from alerts.models import Alert
from outbox.emit import Draft, events_emit
from outbox.events import STOCK_LOW

# Events per INSERT: a first sweep may open thousands of alerts, and one statement holds at
# most 65,535 parameters.
BATCH = 1000


def low_stock_events_emit(*, alert_ids: Sequence[int]) -> None:
    """Write one `stock.low` event per newly opened low-stock alert, in this transaction."""
    ids = sorted(alert_ids)
    for start in range(0, len(ids), BATCH):
        _emit(ids[start : start + BATCH])


def _emit(alert_ids: Sequence[int]) -> None:
    alerts = (
        Alert.objects.filter(pk__in=alert_ids)
        .select_related("product", "location")
        .only("pk", "details", "opened_at", "product__sku", "location__code", "location_id")
        .order_by("pk")
    )
    events_emit(
        drafts=[
            Draft(
                STOCK_LOW,
                {
                    "alert": alert.pk,
                    "sku": alert.product.sku,
                    "location": alert.location.code,
                    "available": alert.details.get("available"),
                    "threshold": alert.details.get("threshold"),
                },
                alert.location_id,
                f"stock:{alert.location_id}",
            )
            for alert in alerts
        ]
    )
