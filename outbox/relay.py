"""The relay: fan committed events out to their subscriptions, then send what is due.

Several relay runs may work at once (a kicked run, the periodic sweep, more workers). Fan-out
runs one at a time, in event order, so that the deliveries of one key are written in order.
Sending claims deliveries by setting `claimed_until` on rows locked with SKIP LOCKED: two
runs never send the same delivery at once, and a run that dies (a killed worker) lets its
deliveries go when the claim runs out, for the next run to send again: at least once.
Deliveries with a key wait while an earlier event of that key is still waiting for the same
subscription: a fulfilment's events arrive in order.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from outbox.backoff import next_try
from outbox.models import Delivery, OutboxEvent, WebhookSubscription
from outbox.signing import event_body_from_text
from outbox.transport import Answer, post

logger = logging.getLogger(__name__)
DS = Delivery.Status
FAN_OUT_BATCH = 1000
# Any constant: the key of the PostgreSQL advisory lock that makes fan-out run one at a time.
FAN_OUT_LOCK = 0x0B0C_F0F0


@dataclass(frozen=True)
class Relayed:
    """What one relay run did."""

    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    budget_spent: bool = False  # stopped with work possibly left

    def __add__(self, other: Relayed) -> Relayed:
        return Relayed(
            self.fanned_out + other.fanned_out,
            self.delivered + other.delivered,
            self.failed + other.failed,
            self.dead + other.dead,
        )

    def as_dict(self) -> dict:
        return asdict(self)


def outbox_relay(*, now: datetime | None = None, budget_seconds: float | None = None) -> Relayed:
    """Fan out and send until nothing is due, or the budget is spent; return what was done.

    Each round claims a batch and starts sending it, then writes the answers of the batch
    before, so that the database work of one overlaps the HTTP of the other. A batch in
    flight still counts as waiting, so the next claim leaves the later events of its keys.
    `now` fixes the clock (tests); otherwise each round reads it afresh.
    """
    started = time.monotonic()
    total = Relayed()
    flight: InFlight | None = None
    while True:
        at = now or timezone.now()
        fanned = events_fan_out(now=at)
        claimed = deliveries_claim(now=at, limit=settings.OMS_WEBHOOK_BATCH)
        sending = deliveries_dispatch(claimed=claimed, now=at) if claimed else None
        landed = flight is not None
        if flight is not None:
            total = total + flight.land()
        flight = sending
        total = total + Relayed(fanned_out=fanned)
        if not (fanned or claimed or landed):
            return total
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            if flight is not None:
                total = total + flight.land()
            return replace(total, budget_spent=True)


def events_fan_out(*, now: datetime | None = None) -> int:
    """Write the deliveries of every event not yet fanned out; return the events done."""
    done = 0
    while True:
        count = _fan_out_batch(now or timezone.now())
        done += count
        if count < FAN_OUT_BATCH:
            return done


@transaction.atomic
def _fan_out_batch(now: datetime) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FAN_OUT_LOCK])
    events = list(
        OutboxEvent.objects.filter(fanned_out=False)
        .order_by("id")
        .values_list("id", "event", "location_id", "other_location_id", "key", "created_at")[
            :FAN_OUT_BATCH
        ]
    )
    if not events:
        return 0
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    horizon = timedelta(hours=settings.OMS_WEBHOOK_HORIZON_HOURS)
    rows = [
        (subscription.pk, event_id, key, created_at + horizon)
        for event_id, event, location_id, other_location_id, key, created_at in events
        for subscription in subscriptions
        if subscription.wants(event, location_id, other_location_id)
    ]
    _deliveries_insert(rows, now)
    OutboxEvent.objects.filter(id__in=[event[0] for event in events]).update(fanned_out=True)
    return len(events)


def _deliveries_insert(rows: list[tuple], now: datetime) -> None:
    """INSERT pending deliveries `(subscription id, event id, key, horizon)`, skipping those
    that exist: unique per subscription and event, so a fan-out repeated after a crash adds
    nothing. Plain SQL: the ORM spent more building 1,000 instances than the database."""
    adapt = connection.ops.adapt_datetimefield_value
    at = adapt(now)
    columns = (
        "subscription_id, event_id, key, status, attempts, next_try_at, horizon_at, "
        "last_response, last_error, created_at"
    )
    table = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, 0, %s, %s, '', '', %s)"] * len(chunk))
            params = []
            for subscription_id, event_id, key, horizon_at in chunk:
                params += [subscription_id, event_id, key, DS.PENDING, at, adapt(horizon_at), at]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING", params
            )


@dataclass(frozen=True)
class Claimed:
    """A delivery this run holds, with what sending it needs."""

    id: int
    attempts: int
    horizon_at: datetime
    subscription: WebhookSubscription
    uid: str
    event: str
    body: bytes
    # The request that wrote the event: its receiver sees it as X-Request-ID.
    request_id: str = ""


@dataclass(frozen=True)
class InFlight:
    """A claimed batch being sent; `land()` waits for the answers and writes them."""

    claimed: list[Claimed]
    answers: list[Future]
    now: datetime

    def land(self) -> Relayed:
        pairs = [(d, a.result()) for d, a in zip(self.claimed, self.answers, strict=True)]
        return deliveries_record(pairs=pairs, now=self.now)


def deliveries_dispatch(*, claimed: list[Claimed], now: datetime) -> InFlight:
    """Start sending `claimed` on the relay's threads."""
    return InFlight(claimed, [_executor().submit(_send, d) for d in claimed], now)


def _send(delivery: Claimed) -> Answer:
    return post(
        url=delivery.subscription.url,
        body=delivery.body,
        secret=delivery.subscription.secret,
        event_id=delivery.uid,
        event=delivery.event,
        attempt=delivery.attempts + 1,
        request_id=delivery.request_id,
    )


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=settings.OMS_WEBHOOK_CONCURRENCY, thread_name_prefix="webhook"
    )


def deliveries_claim(*, now: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due deliveries for this run, each first in line for its key."""
    with transaction.atomic():
        earlier = Delivery.objects.filter(
            subscription=OuterRef("subscription"),
            key=OuterRef("key"),
            status__in=Delivery.WAITING,
            event_id__lt=OuterRef("event_id"),
        )
        ids = list(
            Delivery.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                status__in=Delivery.WAITING,
                next_try_at__lte=now,
            )
            .filter(Q(key="") | ~Exists(earlier))
            .order_by("next_try_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        lease = now + timedelta(seconds=settings.OMS_WEBHOOK_CLAIM_SECONDS)
        Delivery.objects.filter(id__in=ids).update(claimed_until=lease)
    rows = list(
        Delivery.objects.filter(id__in=ids)
        .order_by("id")
        .values_list(
            "id",
            "attempts",
            "horizon_at",
            "subscription_id",
            "event__uid",
            "event__event",
            "event__created_at",
            "event__request_id",
            # The stored JSON as text goes into the body as it is: no decoding per event.
            Cast("event__data", TextField()),
        )
    )
    subscriptions = WebhookSubscription.objects.in_bulk({row[3] for row in rows})
    return [
        Claimed(
            id=id_,
            attempts=attempts,
            horizon_at=horizon_at,
            subscription=subscriptions[subscription_id],
            uid=str(uid),
            event=event,
            body=event_body_from_text(uid=str(uid), event=event, created_at=created, data=data),
            request_id=rid,
        )
        for id_, attempts, horizon_at, subscription_id, uid, event, created, rid, data in rows
    ]


def deliveries_record(*, pairs: list[tuple[Claimed, Answer]], now: datetime) -> Relayed:
    """Write each delivery's answer: delivered, to be tried again, or dead past its horizon."""
    delivered: dict[tuple[int, str], list[int]] = defaultdict(list)
    failed = []
    dead = 0
    for delivery, answer in pairs:
        if answer.ok:
            delivered[(answer.status, answer.excerpt)].append(delivery.id)
            continue
        attempts = delivery.attempts + 1
        retry_at = next_try(attempts=attempts, now=now, horizon_at=delivery.horizon_at)
        failed.append(
            Delivery(
                pk=delivery.id,
                attempts=attempts,
                status=DS.FAILED if retry_at else DS.DEAD,
                next_try_at=retry_at or now,
                claimed_until=None,
                last_attempt_at=now,
                last_status_code=answer.status,
                last_response=answer.excerpt,
                last_error=answer.error or f"HTTP {answer.status}",
            )
        )
        dead += retry_at is None
        logger.info(
            "webhook %s to %s failed (%s), attempt %s%s",
            delivery.uid,
            delivery.subscription.url,
            failed[-1].last_error,
            attempts,
            "" if retry_at else ", dead",
        )
    with transaction.atomic():
        for (status, excerpt), ids in delivered.items():
            Delivery.objects.filter(id__in=ids).update(
                status=DS.DELIVERED,
                attempts=F("attempts") + 1,
                delivered_at=now,
                claimed_until=None,
                last_attempt_at=now,
                last_status_code=status,
                last_response=excerpt,
                last_error="",
            )
        if failed:
            Delivery.objects.bulk_update(
                failed,
                [
                    "attempts",
                    "status",
                    "next_try_at",
                    "claimed_until",
                    "last_attempt_at",
                    "last_status_code",
                    "last_response",
                    "last_error",
                ],
                batch_size=200,
            )
    return Relayed(
        delivered=sum(len(ids) for ids in delivered.values()),
        failed=len(failed) - dead,
        dead=dead,
    )
