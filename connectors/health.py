"""Reads for the console: how each connected storefront is doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q

from connectors.models import Connector, StorefrontOrder
from connectors.outbound_models import ConnectorHealth, ShipmentPush, StockSync


@dataclass(frozen=True)
class Health:
    connector: Connector
    last_webhook_at: datetime | None
    last_success_at: datetime | None
    shipments_waiting: int
    skus_waiting: int
    rows_failing: int
    last_error: str
    last_error_at: datetime | None
    paused_until: datetime | None
    reconciled_until: datetime | None

    @property
    def queue_depth(self) -> int:
        return self.shipments_waiting + self.skus_waiting


def connectors_health() -> list[Health]:
    """Return the health of every connector, by channel code: a handful of queries,
    whatever the number of storefronts (each count reads a partial index of waiting rows)."""
    connectors = list(Connector.objects.select_related("channel").order_by("channel__code"))
    ids = [c.pk for c in connectors]
    webhooks = dict(
        StorefrontOrder.objects.filter(connector_id__in=ids)
        .values("connector_id")
        .annotate(last=Max("received_at"))
        .values_list("connector_id", "last")
    )
    shipments: dict[int, dict] = {
        row["connector_id"]: dict(row)
        for row in ShipmentPush.objects.filter(connector_id__in=ids, status="waiting")
        .values("connector_id")
        .annotate(waiting=Count("id"), failing=Count("id", filter=~Q(last_error="")))
    }
    stock: dict[int, dict] = {
        row["connector_id"]: dict(row)
        for row in StockSync.objects.filter(connector_id__in=ids, dirty=True)
        .values("connector_id")
        .annotate(waiting=Count("id"), failing=Count("id", filter=~Q(last_error="")))
    }
    healths = {h.connector_id: h for h in ConnectorHealth.objects.filter(connector_id__in=ids)}
    answer = []
    for connector in connectors:
        health = healths.get(connector.pk) or ConnectorHealth(connector=connector)
        ship: dict = shipments.get(connector.pk, {})
        sku: dict = stock.get(connector.pk, {})
        answer.append(
            Health(
                connector=connector,
                last_webhook_at=webhooks.get(connector.pk),
                last_success_at=health.last_success_at,
                shipments_waiting=ship.get("waiting", 0),
                skus_waiting=sku.get("waiting", 0),
                rows_failing=ship.get("failing", 0) + sku.get("failing", 0),
                last_error=health.last_error,
                last_error_at=health.last_error_at,
                paused_until=health.paused_until,
                reconciled_until=health.reconciled_until,
            )
        )
    return answer
