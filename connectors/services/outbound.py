"""Every write about what the OMS sends to storefronts: shipments and stock figures, marked
when they change, sent when due, cleared when the storefront has them.

A connector's round (`connector_push`) sends its due shipments, then its due stock in
batches. The storefront's answer decides what comes next:

* down or slow (`RemoteUnavailable`) or asking us to wait (`RemoteThrottled`): the round
  stops, nothing claimed counts as an attempt, and the connector pauses (the storefront's
  `Retry-After`, or a backoff that doubles with each failed probe), so a storefront down
  for ten minutes gets one probe per backoff step, not one call per waiting row;
* refusing one row (`RemoteRefused`, an order it does not know): that row waits its own
  backoff, the others go on;
* not knowing a SKU's remote id (`RemoteNotFound`): its ids are looked up again at once,
  and the SKU is sent again; a SKU the storefront does not sell is left aside.

Nothing is ever dropped: a row waits until the storefront answers 2xx for it, however long
(the backoff stops growing at `OMS_WEBHOOK_RETRY_MAX_SECONDS`), and the console shows it.
Stock figures are absolute and read when sent, so a push sent twice changes nothing, and a
hundred changes of a SKU waiting together are one call.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors.adapters.base import RemoteIds, StockFigure
from connectors.adapters.outbound import Shipment, outbound_adapter
from connectors.models import Connector, ConnectorLocation
from connectors.outbound_models import ConnectorHealth, RemoteRef, ShipmentPush, StockSync
from connectors.remote import (
    RemoteError,
    RemoteNotFound,
    RemoteThrottled,
    RemoteUnavailable,
)
from core.kick import kick_after_commit
from fulfilment.models import Fulfilment
from inventory.models import Allocation, Product
from inventory.selectors import available_by_location
from orders.models import Order
from outbox.backoff import next_try

logger = logging.getLogger(__name__)

PUSH_TASK = "connectors.tasks.connectors_push_task"
PUSH_KEY = "connectors-push"
# A claim lasts this long: a sender that dies lets its rows go after it.
CLAIM_SECONDS = 120
STOCK_BATCH = 250
SHIPMENT_BATCH = 50
MARK_CHUNK = 500


class StorefrontDown(Exception):
    """The round stops: the storefront is down or asked us to wait `retry_after`."""

    def __init__(self, error: RemoteError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass
class Pushed:
    """What one round did for one connector."""

    shipments: int = 0
    stock_calls: int = 0
    skus: int = 0
    paused: bool = False
    error: str = ""
    more: bool = False


# -- marking what changed ---------------------------------------------------------------


def stock_changes_mark(
    *, skus: Iterable[str], now: datetime | None = None, connector_ids: Sequence[int] | None = None
) -> int:
    """Mark these SKUs to be sent to every active connector (or those named); return how many
    SKUs were marked. A SKU already waiting keeps its turn: marking it again only raises its
    version, so that a push already on its way sends it once more afterwards."""
    skus = sorted(set(skus))
    if not skus:
        return 0
    now = now or timezone.now()
    for start in range(0, len(skus), MARK_CHUNK):
        _upsert(
            skus[start : start + MARK_CHUNK], now=now, forced=False, connector_ids=connector_ids
        )
    kick_after_commit(task_name=PUSH_TASK, key=PUSH_KEY)
    return len(skus)


def _upsert(
    skus: list[str], *, now: datetime, forced: bool, connector_ids: Sequence[int] | None
) -> None:
    table = StockSync._meta.db_table
    connectors = Connector._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(%s)"] * len(skus))
    where, params = "c.active", []
    if connector_ids is not None:
        if not connector_ids:
            return
        where += f" AND c.id IN ({', '.join(['%s'] * len(connector_ids))})"
        params = list(connector_ids)
    with connection.cursor() as cursor:
        # One statement for every connector × SKU; `WHERE` keeps SQLite's parser from reading
        # ON CONFLICT as a join's ON.
        cursor.execute(
            f"""INSERT INTO {table} (connector_id, sku, dirty, version, forced, changed_at,
                    next_try_at, attempts, last_error, pushed)
                SELECT c.id, v.column1, TRUE, 1, %s, %s, %s, 0, '', '{{}}'
                FROM {connectors} c CROSS JOIN (VALUES {values}) AS v
                WHERE {where}
                ON CONFLICT (connector_id, sku) DO UPDATE SET
                    dirty = TRUE,
                    version = {table}.version + 1,
                    forced = {table}.forced OR EXCLUDED.forced,
                    changed_at = EXCLUDED.changed_at,
                    next_try_at = CASE WHEN {table}.dirty THEN {table}.next_try_at
                                       ELSE EXCLUDED.next_try_at END""",
            [forced, adapt(now), adapt(now), *skus, *params],
        )


@transaction.atomic(durable=True)
def stock_push_all(*, connector: Connector, now: datetime | None = None) -> int:
    """Send every SKU's figure to the storefront again, even those it should already have
    (its own figures may have drifted); look up afresh the SKUs it did not sell. Return how
    many SKUs are to be sent."""
    RemoteRef.objects.filter(connector=connector, missing=True).delete()
    return _all_marked(connector, now or timezone.now())


def connector_outbound_reset(*, connector: Connector, now: datetime | None = None) -> int:
    """The connection was set anew (another shop, token or location map), in the caller's
    transaction: forget every remote id kept, and send every SKU's figure again."""
    RemoteRef.objects.filter(connector=connector).delete()
    return _all_marked(connector, now or timezone.now())


def _all_marked(connector: Connector, now: datetime) -> int:
    skus = list(Product.objects.order_by("sku").values_list("sku", flat=True))
    for start in range(0, len(skus), MARK_CHUNK):
        _upsert(
            skus[start : start + MARK_CHUNK], now=now, forced=True, connector_ids=[connector.pk]
        )
    kick_after_commit(task_name=PUSH_TASK, key=PUSH_KEY)
    return len(skus)


def shipments_mark(*, fulfilment_ids: Iterable[int], now: datetime | None = None) -> int:
    """Queue the shipments of these fulfilments for the storefronts their orders came from
    (orders of a connected channel, with the storefront's order id); return how many were
    queued. A fulfilment already queued is not queued twice."""
    now = now or timezone.now()
    rows = (
        Fulfilment.objects.filter(
            pk__in=set(fulfilment_ids),
            status=Fulfilment.Status.SHIPPED,
            order__channel__connector__active=True,
        )
        .exclude(order__external_id="")
        .values_list("pk", "order__channel__connector__pk")
    )
    pushes = [
        ShipmentPush(
            connector_id=connector_id,
            fulfilment_id=fulfilment_id,
            next_try_at=now,
            created_at=now,
        )
        for fulfilment_id, connector_id in rows
    ]
    if pushes:
        ShipmentPush.objects.bulk_create(pushes, ignore_conflicts=True)
        kick_after_commit(task_name=PUSH_TASK, key=PUSH_KEY)
    return len(pushes)


# -- sending ----------------------------------------------------------------------------


def health_of(connector: Connector) -> ConnectorHealth:
    health, _ = ConnectorHealth.objects.get_or_create(connector=connector)
    return health


def connectors_due(*, now: datetime) -> list[Connector]:
    """Return the active connectors with something due and no pause running."""
    # Two reads of the partial indexes of waiting rows, rather than one join of both.
    ids = set(
        StockSync.objects.filter(dirty=True, next_try_at__lte=now)
        .values_list("connector_id", flat=True)
        .distinct()
    ) | set(
        ShipmentPush.objects.filter(status=ShipmentPush.Status.WAITING, next_try_at__lte=now)
        .values_list("connector_id", flat=True)
        .distinct()
    )
    return [
        connector
        for connector in Connector.objects.filter(pk__in=ids, active=True).select_related(
            "channel", "health"
        )
        if not _paused(connector, now)
    ]


def connectors_push_due(*, now: datetime | None = None, budget_seconds: float = 60.0) -> dict:
    """Run a round for every connector with something due; return what was done, and
    whether the budget ran out with work left (`more`)."""
    started = time.monotonic()
    done: dict = {"connectors": 0, "shipments": 0, "stock_calls": 0, "skus": 0, "more": False}
    for connector in connectors_due(now=now or timezone.now()):
        if time.monotonic() - started > budget_seconds:
            done["more"] = True
            break
        pushed = connector_push(connector=connector, now=now, budget_seconds=budget_seconds)
        done["connectors"] += 1
        done["shipments"] += pushed.shipments
        done["stock_calls"] += pushed.stock_calls
        done["skus"] += pushed.skus
        done["more"] = done["more"] or pushed.more
    return done


def _paused(connector: Connector, now: datetime) -> bool:
    health = getattr(connector, "health", None)
    return bool(health and health.paused_until and health.paused_until > now)


def connector_push(
    *, connector: Connector, now: datetime | None = None, budget_seconds: float | None = None
) -> Pushed:
    """Send what is due to one storefront: shipments first, then stock, until nothing is
    due, the storefront stops us, or the budget is spent (`more`: work may be left)."""
    started = time.monotonic()
    now = now or timezone.now()
    health = health_of(connector)
    if health.paused_until and health.paused_until > now:
        return Pushed(paused=True)
    adapter = outbound_adapter(connector.kind)
    done = Pushed()
    try:
        done.shipments = _shipments_send(connector, adapter, now)
        while True:
            calls, skus = _stock_send(connector, adapter, now)
            done.stock_calls += calls
            done.skus += skus
            if skus == 0:
                break
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                done.more = True
                break
    except StorefrontDown as down:
        done.paused = True
        done.error = str(down)
        _health_down(health, down, now)
        return done
    if done.shipments or done.stock_calls:
        ConnectorHealth.objects.filter(pk=health.pk).update(
            last_success_at=now, failures=0, paused_until=None
        )
    return done


def _health_down(health: ConnectorHealth, down: StorefrontDown, now: datetime) -> None:
    failures = health.failures + 1
    if down.retry_after is not None:
        until = now + timedelta(seconds=down.retry_after)
    else:
        until = next_try(attempts=failures, now=now, horizon_at=now + _far()) or now
    ConnectorHealth.objects.filter(pk=health.pk).update(
        failures=F("failures") + 1,
        paused_until=until,
        last_error=str(down.error)[:255],
        last_error_at=now,
    )
    logger.info("storefront of connector %s: %s; paused until %s", health.connector_id, down, until)


def _far() -> timedelta:
    # Rows never die: the backoff's horizon is always beyond its longest delay.
    return timedelta(seconds=settings.OMS_WEBHOOK_RETRY_MAX_SECONDS * 2)


def _call(work):
    """Run one storefront call; turn "stop everything" answers into StorefrontDown."""
    try:
        return work()
    except RemoteThrottled as throttled:
        raise StorefrontDown(throttled, throttled.retry_after) from throttled
    except RemoteUnavailable as unavailable:
        raise StorefrontDown(unavailable, None) from unavailable


def _claim(model, *, connector: Connector, now: datetime, limit: int, due: Q) -> list[int]:
    with transaction.atomic():
        ids = list(
            model.objects.filter(due, connector=connector, next_try_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_try_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            model.objects.filter(id__in=ids).update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return ids


def _release(model, ids: Iterable[int]) -> None:
    model.objects.filter(id__in=list(ids)).update(claimed_until=None)


def _failed(model, ids: Iterable[int], error: RemoteError, now: datetime) -> None:
    """Put rows the storefront refused back with their own backoff."""
    for row in model.objects.filter(id__in=list(ids)).only("id", "attempts"):
        attempts = row.attempts + 1
        model.objects.filter(pk=row.pk).update(
            attempts=attempts,
            next_try_at=next_try(attempts=attempts, now=now, horizon_at=now + _far()) or now,
            claimed_until=None,
            last_error=str(error)[:255],
        )
    connector_id = model.objects.filter(id__in=list(ids)).values_list("connector_id", flat=True)
    ConnectorHealth.objects.filter(connector_id__in=connector_id[:1]).update(
        last_error=str(error)[:255], last_error_at=now
    )


# -- shipments --------------------------------------------------------------------------


def _shipments_send(connector: Connector, adapter, now: datetime) -> int:
    sent = 0
    while True:
        ids = _claim(
            ShipmentPush,
            connector=connector,
            now=now,
            limit=SHIPMENT_BATCH,
            due=Q(status=ShipmentPush.Status.WAITING),
        )
        if not ids:
            return sent
        pushes = list(
            ShipmentPush.objects.filter(id__in=ids)
            .select_related("fulfilment__order")
            .order_by("id")
        )
        for index, push in enumerate(pushes):
            shipment = shipment_of(push.fulfilment, connector=connector)
            try:
                note = _call(
                    lambda s=shipment: adapter.shipment_push(connector=connector, shipment=s)
                )
            except StorefrontDown:
                _release(ShipmentPush, [p.pk for p in pushes[index:]])
                raise
            except RemoteError as refused:
                _failed(ShipmentPush, [push.pk], refused, now)
                continue
            ShipmentPush.objects.filter(pk=push.pk).update(
                status=ShipmentPush.Status.DONE,
                attempts=F("attempts") + 1,
                done_at=now,
                claimed_until=None,
                last_error="",
                note=str(note or "")[:255],
            )
            sent += 1


def shipment_of(fulfilment: Fulfilment, *, connector: Connector) -> Shipment:
    """Return what the storefront is told of a shipped fulfilment: its order's id there,
    carrier, tracking number, the units by SKU, the storefront's id of the location it left
    from (when mapped), and whether the whole order has left."""
    order = fulfilment.order
    lines: dict[str, int] = defaultdict(int)
    for sku, quantity in (
        Allocation.objects.filter(fulfilment=fulfilment, status=Allocation.Status.SHIPPED)
        .order_by("id")
        .values_list("order_line__product__sku", "quantity")
    ):
        lines[sku] += quantity
    last = Order.objects.filter(pk=order.pk, status=Order.Status.SHIPPED).exists()
    remote_location = (
        ConnectorLocation.objects.filter(connector=connector, location_id=fulfilment.location_id)
        .values_list("remote_id", flat=True)
        .first()
    )
    return Shipment(
        remote_order_id=order.external_id,
        carrier=fulfilment.carrier,
        tracking_number=fulfilment.tracking_number,
        lines=tuple(lines.items()),
        remote_location_id=remote_location or "",
        key=str(fulfilment.pk),
        last=last,
    )


# -- stock ------------------------------------------------------------------------------


def stock_figures(*, connector: Connector, skus: Sequence[str]) -> dict[str, dict[str, int]]:
    """Return `{sku: {remote location id: units}}`: at each mapped location, what the
    channel may sell of the SKU (inventory's one availability rule, the channel's buffer
    held back over its whole network). Several OMS locations mapped to one remote location
    add up there; a location with nothing to sell counts 0."""
    mapping = list(connector.locations.values_list("location__code", "remote_id"))
    by_sku = available_by_location(skus=skus, channel=connector.channel)
    figures = {}
    for sku in skus:
        by_code = by_sku.get(sku, {})
        remote: dict[str, int] = defaultdict(int)
        for code, remote_id in mapping:
            remote[remote_id] += by_code.get(code, 0)
        figures[sku] = dict(remote)
    return figures


def _stock_send(connector: Connector, adapter, now: datetime) -> tuple[int, int]:
    """Send one batch of due SKUs; return (calls made, SKUs settled)."""
    ids = _claim(StockSync, connector=connector, now=now, limit=STOCK_BATCH, due=Q(dirty=True))
    if not ids:
        return 0, 0
    rows = list(
        StockSync.objects.filter(id__in=ids).values_list("id", "sku", "version", "forced", "pushed")
    )
    skus = [row[1] for row in rows]
    try:
        refs = _remote_ids(connector, adapter, skus, now)
    except StorefrontDown:
        _release(StockSync, ids)
        raise
    except RemoteError as refused:
        _failed(StockSync, ids, refused, now)
        return 1, len(ids)
    figures = stock_figures(connector=connector, skus=skus)
    to_send = {
        sku: figure
        for _, sku, _, forced, pushed in rows
        if sku in refs and ((figure := figures[sku]) != pushed or forced) and figure
    }
    calls = 0
    failed: dict[str, RemoteError] = {}
    if to_send:
        try:
            calls, failed = _stock_call(connector, adapter, to_send, refs, now)
        except StorefrontDown:
            _release(StockSync, ids)
            raise
    settled = [row for row in rows if row[1] not in failed]
    _stock_settled(settled, to_send, now)
    for sku, error in failed.items():
        _failed(StockSync, [row[0] for row in rows if row[1] == sku], error, now)
    return calls, len(ids)


def _stock_call(connector, adapter, to_send, refs, now) -> tuple[int, dict[str, RemoteError]]:
    """Send the figures; a SKU whose remote id is stale is looked up again and sent again
    once. Return the calls made and the SKUs that failed with why."""
    calls = 0
    pending = dict(to_send)
    for round_ in range(2):
        figures = [
            StockFigure(sku=sku, remote_location_id=remote, available=units)
            for sku, by_remote in sorted(pending.items())
            for remote, units in sorted(by_remote.items())
        ]
        calls += 1
        try:
            _call(
                lambda f=figures, r=refs: adapter.stock_push(connector=connector, figures=f, ids=r)
            )
            return calls, {}
        except RemoteNotFound as unknown:
            stale = [sku for sku in unknown.ids if sku in pending]
            if not stale or round_ == 1:
                return calls, dict.fromkeys(stale or pending, unknown)
            RemoteRef.objects.filter(connector=connector, sku__in=stale).delete()
            fresh = _remote_ids(connector, adapter, stale, now)
            refs = {**{k: v for k, v in refs.items() if k not in stale}, **fresh}
            # Shopify applies none of a batch with an unknown item, WooCommerce the rest:
            # the whole batch goes again (figures are absolute), the SKUs no longer sold
            # there left aside.
            pending = {sku: f for sku, f in pending.items() if sku not in stale or sku in fresh}
            if not pending:
                return calls, {}
        except RemoteError as refused:
            return calls, dict.fromkeys(pending, refused)
    return calls, {}


def _stock_settled(rows, sent: dict[str, dict[str, int]], now: datetime) -> None:
    """Clear the rows the storefront has: each stays dirty if it changed while on its way."""
    if not rows:
        return
    table = StockSync._meta.db_table
    updates = [
        StockSync(
            pk=pk,
            pushed=sent.get(sku, pushed),
            pushed_at=now if sku in sent else None,
            attempts=0,
            last_error="",
            claimed_until=None,
        )
        for pk, sku, _, _, pushed in rows
    ]
    fields = ["pushed", "attempts", "last_error", "claimed_until"]
    StockSync.objects.bulk_update([u for u in updates if u.pushed_at is None], fields)
    StockSync.objects.bulk_update(
        [u for u in updates if u.pushed_at is not None], [*fields, "pushed_at"]
    )
    values = ", ".join(["(%s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET dirty = FALSE, forced = FALSE FROM (VALUES {values}) AS v"
            f" WHERE {table}.id = v.column1 AND {table}.version = v.column2",
            [x for pk, _, version, _, _ in rows for x in (pk, version)],
        )


def _remote_ids(connector, adapter, skus: Sequence[str], now: datetime) -> dict[str, RemoteIds]:
    """Return the remote ids of the SKUs the storefront sells, looking up those not kept."""
    kept = {
        ref.sku: ref for ref in RemoteRef.objects.filter(connector=connector, sku__in=list(skus))
    }
    unknown = [sku for sku in skus if sku not in kept]
    if unknown:
        found = _call(lambda: adapter.remote_ids_lookup(connector=connector, skus=unknown))
        refs = [
            RemoteRef(
                connector=connector,
                sku=sku,
                product_id=ids.product_id if (ids := found.get(sku)) else "",
                variant_id=ids.variant_id if ids else "",
                inventory_item_id=ids.inventory_item_id if ids else "",
                missing=ids is None,
                looked_up_at=now,
            )
            for sku in unknown
        ]
        RemoteRef.objects.bulk_create(refs, ignore_conflicts=True)
        kept.update({ref.sku: ref for ref in refs})
    return {
        sku: RemoteIds(
            sku=sku,
            product_id=ref.product_id,
            variant_id=ref.variant_id,
            inventory_item_id=ref.inventory_item_id,
        )
        for sku, ref in kept.items()
        if not ref.missing
    }
