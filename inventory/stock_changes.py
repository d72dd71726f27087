"""`stock.changed`: the stock ledger turned into one event per location, in batches.

An event per movement on the hot paths would double their writes; instead the relay reads
the ledger rows committed since its cursor and writes one event per location that moved.
Ids are handed out before commit, so a missing id may be a transaction still running: the
cursor stops before it and waits, up to `GAP_WAIT`, for it to commit or to prove rolled
back. So every committed movement is told once, and nothing that rolled back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.api.values import moment
from inventory.models import StockMovement
from outbox.emit import Draft, events_write
from outbox.events import STOCK_CHANGED
from outbox.models import OutboxCursor

CURSOR = STOCK_CHANGED
GAP_WAIT = timedelta(seconds=60)
BATCH = 5000


@transaction.atomic
def stock_changes_emit(*, now: datetime | None = None) -> int:
    """Write `stock.changed` events for the movements committed since the last run; return
    how many events were written. The first run starts at the end of the ledger."""
    now = now or timezone.now()
    cursor = OutboxCursor.objects.select_for_update().filter(name=CURSOR).first()
    if cursor is None:
        last = StockMovement.objects.aggregate(last=Max("id"))["last"] or 0
        OutboxCursor.objects.create(name=CURSOR, position=last)
        return 0
    rows = list(
        StockMovement.objects.filter(id__gt=cursor.position)
        .order_by("id")
        .values_list(
            "id",
            "stock__location_id",
            "stock__location__code",
            "stock__product__sku",
            "quantity",
            "on_hand_after",
            "created_at",
        )[:BATCH]
    )
    taken, cursor.gap_since = _contiguous(rows, cursor.position, cursor.gap_since, now)
    if not taken:
        cursor.save(update_fields=["gap_since"])
        return 0
    cursor.position = taken[-1][0]
    cursor.save(update_fields=["position", "gap_since"])
    return events_write(drafts=_drafts(taken))


def _contiguous(rows, position: int, gap_since: datetime | None, now: datetime):
    """Return the rows up to the first gap still worth waiting for, and since when the
    cursor waits at a gap (None: at none)."""
    taken = []
    expected = position + 1
    for row in rows:
        if row[0] != expected:
            if taken or gap_since is None:
                return taken, now  # a gap seen for the first time
            if now - gap_since < GAP_WAIT:
                return taken, gap_since
            gap_since = None  # waited long enough: its transaction rolled back; step over
        taken.append(row)
        expected = row[0] + 1
    return taken, None


def _drafts(rows) -> list[Draft]:
    by_location: dict[int, dict] = {}
    skus: dict[int, dict[str, dict]] = defaultdict(dict)
    for _, location_id, code, sku, quantity, on_hand_after, created_at in rows:
        place = by_location.setdefault(
            location_id, {"location": code, "movements": 0, "from": created_at, "to": created_at}
        )
        place["movements"] += 1
        place["from"] = min(place["from"], created_at)
        place["to"] = max(place["to"], created_at)
        item = skus[location_id].setdefault(sku, {"sku": sku, "change": 0, "on_hand": 0})
        item["change"] += quantity
        item["on_hand"] = on_hand_after  # rows come in ledger order: the last one stands
    return [
        Draft(
            STOCK_CHANGED,
            {
                "location": place["location"],
                "movements": place["movements"],
                "from": moment(place["from"]),
                "to": moment(place["to"]),
                "skus": list(skus[location_id].values()),
            },
            location_id,
            f"stock:{location_id}",
        )
        for location_id, place in sorted(by_location.items())
    ]
