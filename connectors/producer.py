"""The storefronts' share of the outbox: committed events turned into what each connected
storefront must be told.

Registered as an outbox producer (outbox.producers), it runs at the start of every relay
run, after the ledger's `stock.changed` producer, and reads the outbox's events past its
own cursor:

* `fulfilment.shipped` queues the shipment for the storefront the order came from;
* `stock.changed` (the ledger), `order.created` and `order.cancelled`, and
  `fulfilment.requested` and `fulfilment.cancelled` (units allocated, released or moved
  to another location) mark their SKUs for every connected storefront.

Event ids are handed out before commit, so a missing id may be a transaction still
running: the cursor stops before it and waits, up to `GAP_WAIT`, for it to commit or to
prove rolled back, as the ledger's producer does. So every committed event is read once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from connectors.models import Connector
from connectors.services.outbound import shipments_mark, stock_changes_mark
from outbox.events import (
    FULFILMENT_CANCELLED,
    FULFILMENT_REQUESTED,
    FULFILMENT_SHIPPED,
    ORDER_CANCELLED,
    ORDER_CREATED,
    STOCK_CHANGED,
)
from outbox.models import OutboxCursor, OutboxEvent

CURSOR = "connectors"
GAP_WAIT = timedelta(seconds=60)
BATCH = 2000
MOVES_STOCK = (
    STOCK_CHANGED,
    ORDER_CREATED,
    ORDER_CANCELLED,
    FULFILMENT_REQUESTED,
    FULFILMENT_CANCELLED,
)
WANTED = (*MOVES_STOCK, FULFILMENT_SHIPPED)


@transaction.atomic
def connectors_events_read(*, now: datetime | None = None) -> int:
    """Turn the events committed since the last run into shipments and stock marks; return
    how many events were read. Nothing is read while no storefront is connected."""
    now = now or timezone.now()
    cursor = OutboxCursor.objects.select_for_update().filter(name=CURSOR).first()
    if cursor is None:
        first_connected = Connector.objects.aggregate(at=Min("created_at"))["at"]
        if first_connected is None:
            return 0
        # Start at the first event of the first connector's time: none of it is missed, and
        # the ids burnt before it (rolled back, pruned) are no gap to wait at.
        first = OutboxEvent.objects.filter(created_at__gte=first_connected).aggregate(
            first=Min("id")
        )["first"]
        if first is None:
            return 0
        cursor = OutboxCursor.objects.create(name=CURSOR, position=first - 1)
    ids = list(
        OutboxEvent.objects.filter(id__gt=cursor.position)
        .order_by("id")
        .values_list("id", flat=True)[:BATCH]
    )
    taken, cursor.gap_since = _contiguous(ids, cursor.position, cursor.gap_since, now)
    if not taken:
        cursor.save(update_fields=["gap_since"])
        return 0
    cursor.position = taken[-1]
    cursor.save(update_fields=["position", "gap_since"])
    events = OutboxEvent.objects.filter(id__in=taken, event__in=WANTED).values_list("event", "data")
    skus: set[str] = set()
    shipped: list[int] = []
    for event, data in events:
        if event == FULFILMENT_SHIPPED:
            shipped.append(int(data["id"]))
        else:
            skus.update(_skus(event, data))
    if shipped:
        shipments_mark(fulfilment_ids=shipped, now=now)
    if skus:
        stock_changes_mark(skus=skus, now=now)
    return len(taken)


def _skus(event: str, data: dict) -> Iterable[str]:
    lines = data.get("skus") if event == STOCK_CHANGED else data.get("lines")
    return (line["sku"] for line in lines or () if line.get("sku"))


def _contiguous(
    ids: list[int], position: int, gap_since: datetime | None, now: datetime
) -> tuple[list[int], datetime | None]:
    """Return the ids up to the first gap still worth waiting for, and since when the
    cursor waits at a gap (None: at none)."""
    taken: list[int] = []
    expected = position + 1
    for id_ in ids:
        if id_ != expected:
            if taken or gap_since is None:
                return taken, now
            if now - gap_since < GAP_WAIT:
                return taken, gap_since
            gap_since = None  # waited long enough: its transaction rolled back; step over
        taken.append(id_)
        expected = id_ + 1
    return taken, None
