"""Reconciliation: the storefront's orders updated since the last sync, fed through the same
inbound path as its webhooks, to catch a webhook it never sent (storefronts drop some;
Shopify tells apps to reconcile).

Each order read is stored as a webhook of the "updated" topic would be (delivery id
`reconcile:<order id>:<its updated time>`: the same version read twice is stored once) and
applied by the inbound service: placed if the OMS does not have it, cancelled if it was,
changed where it still can be. An order whose latest version already came by webhook is
left alone. The sync moves forward only when the whole read succeeded, with an overlap, so
an order updated during a read is read again next time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.adapters.outbound import outbound_adapter
from connectors.models import Connector, StorefrontOrder
from connectors.outbound_models import ConnectorHealth
from connectors.remote import RemoteError
from connectors.services.inbound import storefront_order_apply, webhook_store
from connectors.services.outbound import health_of

logger = logging.getLogger(__name__)

# Read again this much before the last sync: an order updated while the last read ran.
OVERLAP = timedelta(minutes=5)
# A connector never reconciled reads back this far.
FIRST_LOOK_BACK = timedelta(days=1)
# How each storefront's webhook names its topic and delivery id, and the "updated" topic.
SYNTHETIC = {
    "shopify": ("X-Shopify-Topic", "orders/updated", "X-Shopify-Webhook-Id", "updated_at"),
    "woocommerce": (
        "X-WC-Webhook-Topic",
        "order.updated",
        "X-WC-Webhook-Delivery-ID",
        "date_modified_gmt",
    ),
}


@dataclass
class Reconciled:
    read: int = 0
    applied: int = 0
    skipped: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    error: str = ""


def connector_reconcile(*, connector: Connector, now: datetime | None = None) -> Reconciled:
    """Pull the storefront's orders updated since the last sync and apply the ones the OMS
    has not heard of in that version; move the sync forward if the read went through."""
    now = now or timezone.now()
    health = health_of(connector)
    since = (health.reconciled_until or now - FIRST_LOOK_BACK) - OVERLAP
    done = Reconciled()
    try:
        payloads = outbound_adapter(connector.kind).orders_updated_since(
            connector=connector, since=since
        )
    except RemoteError as error:
        done.error = str(error)
        ConnectorHealth.objects.filter(pk=health.pk).update(
            last_error=f"Reconciliation: {error}"[:255], last_error_at=now
        )
        return done
    topic_header, topic, id_header, updated_key = SYNTHETIC[connector.kind]
    last_heard = _last_heard(connector, [str(p.get("id", "")) for p in payloads])
    for payload in payloads:
        done.read += 1
        remote_id = str(payload.get("id", ""))
        updated_text = str(payload.get(updated_key) or "")
        updated = _moment(updated_text)
        heard = last_heard.get(remote_id)
        if heard is not None and updated is not None and heard >= updated:
            done.skipped += 1
            continue
        stored = webhook_store(
            connector=connector,
            headers={topic_header: topic, id_header: f"reconcile:{remote_id}:{updated_text}"},
            body=json.dumps(payload, separators=(",", ":")).encode(),
            claim=True,
        )
        if not stored.new and stored.storefront_order.status != StorefrontOrder.Status.RECEIVED:
            done.skipped += 1
            continue
        row = storefront_order_apply(storefront_order=stored.storefront_order)
        done.applied += 1
        done.outcomes[row.status] = done.outcomes.get(row.status, 0) + 1
    ConnectorHealth.objects.filter(pk=health.pk).update(reconciled_until=now)
    return done


def _last_heard(connector: Connector, remote_ids: list[str]) -> dict[str, datetime]:
    """Return when each of these orders was last heard of by an applied webhook."""
    return dict(
        StorefrontOrder.objects.filter(
            connector=connector,
            remote_order_id__in=[r for r in remote_ids if r],
            status=StorefrontOrder.Status.APPLIED,
        )
        .values("remote_order_id")
        .annotate(last=Max("received_at"))
        .values_list("remote_order_id", "last")
    )


def _moment(text: str) -> datetime | None:
    """Read a storefront's time; WooCommerce's GMT times come without an offset."""
    moment = parse_datetime(text) if text else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
