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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from fulfilment.outbox.backoff import next_try
from fulfilment.outbox.models import Delivery, OutboxEvent, WebhookSubscription
from fulfilment.outbox.signing import event_body
from fulfilment.outbox.transport import Answer, post

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

    `now` fixes the clock (tests); otherwise each round reads it afresh.
    """
    started = time.monotonic()
    total = Relayed()
    while True:
        at = now or timezone.now()
        fanned = events_fan_out(now=at)
        sent = deliveries_send(now=at)
        total = total + sent + Relayed(fanned_out=fanned)
        if not fanned and not (sent.delivered + sent.failed + sent.dead):
            return total
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
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
        .only("id", "event", "location_id", "key", "created_at")[:FAN_OUT_BATCH]
    )
    if not events:
        return 0
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    horizon = timedelta(hours=settings.OMS_WEBHOOK_HORIZON_HOURS)
    deliveries = [
        Delivery(
            subscription=subscription,
            event=event,
            key=event.key,
            status=DS.PENDING,
            next_try_at=now,
            horizon_at=event.created_at + horizon,
            created_at=now,
        )
        for event in events
        for subscription in subscriptions
        if subscription.wants(event.event, event.location_id)
    ]
    # Unique per subscription and event: a fan-out repeated after a crash adds nothing.
    Delivery.objects.bulk_create(deliveries, batch_size=500, ignore_conflicts=True)
    OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(fanned_out=True)
    return len(events)


def deliveries_send(*, now: datetime, limit: int | None = None) -> Relayed:
    """Claim the deliveries due at `now` and send them concurrently; record each answer."""
    claimed = deliveries_claim(now=now, limit=limit or settings.OMS_WEBHOOK_BATCH)
    if not claimed:
        return Relayed()
    bodies = {}
    for delivery in claimed:
        event = delivery.event
        if event.pk not in bodies:
            bodies[event.pk] = event_body(
                uid=str(event.uid), event=event.event, created_at=event.created_at, data=event.data
            )

    def send(delivery: Delivery) -> Answer:
        return post(
            url=delivery.subscription.url,
            body=bodies[delivery.event_id],
            secret=delivery.subscription.secret,
            event_id=str(delivery.event.uid),
            event=delivery.event.event,
            attempt=delivery.attempts + 1,
        )

    answers = list(_executor().map(send, claimed))
    return deliveries_record(pairs=list(zip(claimed, answers, strict=True)), now=now)


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=settings.OMS_WEBHOOK_CONCURRENCY, thread_name_prefix="webhook"
    )


def deliveries_claim(*, now: datetime, limit: int) -> list[Delivery]:
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
    return list(
        Delivery.objects.filter(id__in=ids).select_related("subscription", "event").order_by("id")
    )


def deliveries_record(*, pairs: list[tuple[Delivery, Answer]], now: datetime) -> Relayed:
    """Write each delivery's answer: delivered, to be tried again, or dead past its horizon."""
    delivered: dict[tuple[int, str], list[int]] = defaultdict(list)
    failed = []
    dead = 0
    for delivery, answer in pairs:
        if answer.ok:
            delivered[(answer.status, answer.excerpt)].append(delivery.pk)
            continue
        attempts = delivery.attempts + 1
        retry_at = next_try(attempts=attempts, now=now, horizon_at=delivery.horizon_at)
        delivery.attempts = attempts
        delivery.status = DS.FAILED if retry_at else DS.DEAD
        delivery.next_try_at = retry_at or delivery.next_try_at
        delivery.claimed_until = None
        delivery.last_attempt_at = now
        delivery.last_status_code = answer.status
        delivery.last_response = answer.excerpt
        delivery.last_error = answer.error or f"HTTP {answer.status}"
        failed.append(delivery)
        dead += retry_at is None
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
    for delivery in failed:
        logger.info(
            "webhook %s to %s failed (%s), attempt %s%s",
            delivery.event.uid,
            delivery.subscription.url,
            delivery.last_error,
            delivery.attempts,
            ", dead" if delivery.status == DS.DEAD else "",
        )
    return Relayed(
        delivered=sum(len(ids) for ids in delivered.values()),
        failed=len(failed) - dead,
        dead=dead,
    )
