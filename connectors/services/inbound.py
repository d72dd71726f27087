"""A storefront's webhook, from its raw body to an order.

1. `webhook_store` (in the request): the body, as signed, is stored before anything is made
   of it (its own transaction), so that nothing a storefront was told is accepted can be
   lost. The same delivery id twice is stored once. A new body is stored already claimed
   by the request that stored it.
2. `storefront_order_apply`, in the same request once the body is safe: what the body says
   is done through the same services as every other way in: the order is captured by
   orders.services.capture (idempotent by channel + the storefront's order id, whatever
   the topic and however often it comes), cancelled by order_cancel, changed by
   order_amend. What cannot become an order is kept `to_fix` with its reason, for
   customer service; `storefront_order_replay` runs it again once fixed (e.g. the SKU now
   exists). Doing it in the request means that once the storefront has its 200, the order
   (or its place in the queue to fix) is there for every reader; a capture costs a few
   tens of milliseconds, well inside the seconds a storefront waits.
3. `storefront_orders_apply_due` (the worker, `storefront_orders_apply_task`): whatever
   the request could not finish (our code failed, the process died, the database went
   away after the body was stored) keeps `received`; once the request's claim lapses the
   worker claims it, oldest first, and applies it the same way. A repeated delivery of a
   body still `received` wakes the worker at once.

Every outcome answers the storefront 200: a payload it would resend forever is not a
reason to refuse it, the queue is.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors.adapters import inbound_adapter
from connectors.adapters.base import Payload, PayloadRefused, flat_errors
from connectors.models import Connector, StorefrontOrder
from core.exceptions import DomainError, FieldErrors
from core.kick import kick_after_commit
from orders.exceptions import InvalidTransition
from orders.models import DeliveryPrice, Order
from orders.places import address_placed
from orders.services.amend import order_amend, order_flag
from orders.services.capture import order_capture, order_input_resolve
from orders.services.lifecycle import order_cancel

logger = logging.getLogger(__name__)

ST = StorefrontOrder.Status
APPLY_TASK = "connectors.tasks.storefront_orders_apply_task"
APPLY_KEY = "connectors-inbound"
# A worker's claim on the bodies it applies lasts this long: one that dies lets them go.
CLAIM_SECONDS = 120
APPLY_BATCH = 20
# A body still `received` and unclaimed this long after it came lost its wake-up (a broker
# outage): beat's sweep applies it.
RESUME_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Stored:
    storefront_order: StorefrontOrder
    # False: the same delivery (by its id) had been stored before.
    new: bool


def webhook_store(*, connector: Connector, headers, body: bytes, claim: bool = False) -> Stored:
    """Store a verified webhook as it came; answer the earlier copy of a repeated delivery.

    With `claim`, a new body is stored claimed by the caller, who applies it next: the
    worker leaves it alone until the claim lapses (the caller died or failed), and no
    wake-up is sent. Without, the worker is woken to apply it.
    """
    adapter = inbound_adapter(connector.kind)
    webhook_id = adapter.webhook_id(headers)[:128]
    payload = _payload(body)
    remote_id = adapter.remote_order_id(payload)[:128] if payload is not None else ""
    updated_at = adapter.remote_updated_at(payload) if payload is not None else None
    try:
        with transaction.atomic(durable=True):
            row = StorefrontOrder.objects.create(
                connector=connector,
                topic=adapter.webhook_topic(headers)[:64],
                webhook_id=webhook_id,
                remote_order_id=remote_id,
                remote_updated_at=updated_at,
                body=body,
                claimed_until=(
                    timezone.now() + timedelta(seconds=CLAIM_SECONDS) if claim else None
                ),
            )
            if not claim:
                kick_after_commit(task_name=APPLY_TASK, key=APPLY_KEY)
        return Stored(row, new=True)
    except IntegrityError:
        if not webhook_id:
            raise
    earlier = StorefrontOrder.objects.select_related("order").get(
        connector=connector, webhook_id=webhook_id
    )
    if earlier.status == ST.RECEIVED:
        # Resent before the worker came to it (or its run was cut off): wake the worker.
        kick_after_commit(task_name=APPLY_TASK, key=APPLY_KEY)
    return Stored(earlier, new=False)


@dataclass
class Applied:
    """What one run of `storefront_orders_apply_due` did."""

    applied: int = 0
    # Bodies our code failed on, left claimed (tried again when the claim lapses).
    failed: int = 0
    # The budget ran out with bodies left: the caller queues another run.
    more: bool = False


def storefront_orders_apply_due(
    *,
    older_than: timedelta | None = None,
    budget_seconds: float | None = None,
    limit: int | None = None,
) -> Applied:
    """Apply the stored bodies still `received` (those received more than `older_than` ago
    only, when given), oldest first, until none is left, the budget is spent or `limit`
    bodies were applied.

    Each batch is claimed first (`FOR UPDATE SKIP LOCKED`, then `claimed_until`), so that
    two runs at once apply different bodies; a run that dies lets its claim lapse and the
    next run applies them. Applying a body twice would do no harm either (capture,
    cancellation and change are idempotent): the claim only saves the work.
    """
    started = time.monotonic()
    done = Applied()
    while True:
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            done.more = True
            return done
        batch = APPLY_BATCH if limit is None else min(APPLY_BATCH, limit - done.applied)
        ids = _claim(batch, older_than) if batch > 0 else []
        if not ids:
            return done
        for row in StorefrontOrder.objects.filter(pk__in=ids).order_by("id"):
            try:
                storefront_order_apply(storefront_order=row)
            except Exception:
                # A body our code fails on must not hold up the bodies behind it: it keeps
                # its claim, so it is tried again when the claim lapses, and the log says why.
                logger.exception("Storefront order %s could not be applied.", row.pk)
                done.failed += 1
                continue
            done.applied += 1


def _claim(limit: int, older_than: timedelta | None) -> list[int]:
    now = timezone.now()
    due = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if older_than is not None:
        due &= Q(received_at__lt=now - older_than)
    with transaction.atomic():
        ids = list(
            StorefrontOrder.objects.filter(due, status=ST.RECEIVED)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            StorefrontOrder.objects.filter(pk__in=ids).update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return ids


def storefront_orders_resume(*, older_than: timedelta = RESUME_AFTER, limit: int = 500) -> int:
    """Apply the stored webhooks left `received` (their wake-up lost in a broker outage, or
    their run cut off by a worker killed mid-way, its claim lapsed); return how many. The
    body was stored first for this: it is never lost, at worst late."""
    return storefront_orders_apply_due(older_than=older_than, limit=limit).applied


def storefront_order_replay(
    *, storefront_order: StorefrontOrder, actor: AbstractBaseUser | None = None
) -> StorefrontOrder:
    """Run a stored webhook again (from the queue to fix, once its cause is fixed)."""
    if storefront_order.status not in (ST.TO_FIX, ST.RECEIVED):
        raise DomainError(
            f"This storefront order is {storefront_order.get_status_display().lower()}: "
            "only one to fix is replayed.",
            field="status",
        )
    return storefront_order_apply(storefront_order=storefront_order, actor=actor)


def storefront_order_apply(
    *, storefront_order: StorefrontOrder, actor: AbstractBaseUser | None = None
) -> StorefrontOrder:
    """Do what a stored webhook says, and record what became of it.

    Safe to run twice, also at once (a storefront's retry while the first is at work):
    capture, cancellation and change are each idempotent.
    """
    row = StorefrontOrder.objects.select_related("connector__channel").get(pk=storefront_order.pk)
    connector = row.connector
    adapter = inbound_adapter(connector.kind)
    source = connector.get_kind_display()
    payload = _payload(bytes(row.body))
    if payload is None:
        return _done(row, ST.TO_FIX, "The body is not a JSON object.")
    if row.topic and row.topic not in adapter.topics:
        return _done(row, ST.IGNORED, f"The topic '{row.topic}' is not about orders.")
    remote_id = adapter.remote_order_id(payload)
    if not remote_id:
        return _done(row, ST.TO_FIX, "The payload has no order id.")
    existing = Order.objects.filter(channel=connector.channel, external_id=remote_id).first()
    if adapter.is_cancellation(topic=row.topic, payload=payload):
        return _cancel(row, existing, source, actor)
    if existing is not None and _superseded(row):
        return _done(
            row,
            ST.IGNORED,
            "An older version of the order than one already applied: not applied over it.",
            existing,
        )
    try:
        remote = adapter.order_read(payload=payload, channel_code=connector.channel.code)
        problem = _currency_problem(connector, remote.body.currency)
        if problem:
            raise PayloadRefused(problem, code="currency")
        data = order_input_resolve(remote.body)
    except PayloadRefused as refused:
        return _done(row, ST.TO_FIX, refused.reason, order=existing)
    except FieldErrors as refused:
        return _done(row, ST.TO_FIX, flat_errors(refused.errors) + ".", order=existing)
    # Placed once here, so that a change of address is placed as a new order is.
    data = replace(data, address=address_placed(data.address))
    if existing is None:
        try:
            captured = order_capture(data=data, actor=actor)
        except FieldErrors as refused:
            return _done(row, ST.TO_FIX, flat_errors(refused.errors) + ".")
        except DomainError as refused:
            return _done(row, ST.TO_FIX, refused.message)
        if captured.created:
            return _done(row, ST.APPLIED, f"Order {captured.order.number} placed.", captured.order)
        # Another delivery of the same order placed it a moment ago: this one may change it.
        existing = captured.order
    amended = order_amend(
        order=existing, lines=data.lines, address=data.address, actor=actor, source=source
    )
    if amended.outcome == "unchanged":
        note = amended.note or f"Order {existing.number} already says this."
        return _done(row, ST.APPLIED, note, existing)
    if amended.outcome == "flagged":
        return _done(row, ST.APPLIED, f"Sent to customer service: {amended.note}", existing)
    return _done(row, ST.APPLIED, f"Order {existing.number} changed: {amended.note}", existing)


def _cancel(row: StorefrontOrder, order: Order | None, source: str, actor) -> StorefrontOrder:
    if order is None:
        return _done(row, ST.IGNORED, "Cancelled in the storefront before the OMS had it.")
    try:
        order_cancel(order=order, actor=actor, reason=f"cancelled in {source}")
    except InvalidTransition as refused:
        reason = f"Cancelled in {source}, but {refused.message}"
        order_flag(order=order, reason=reason, actor=actor)
        return _done(row, ST.APPLIED, f"Sent to customer service: {reason}", order)
    return _done(row, ST.APPLIED, f"Order {order.number} cancelled.", order)


def _superseded(row: StorefrontOrder) -> bool:
    """Whether a delivery of the same order saying a later change was applied already."""
    if row.remote_updated_at is None:
        return False
    return (
        StorefrontOrder.objects.filter(
            connector_id=row.connector_id,
            remote_order_id=row.remote_order_id,
            status=ST.APPLIED,
            remote_updated_at__gt=row.remote_updated_at,
        )
        .exclude(pk=row.pk)
        .exists()
    )


def _currency_problem(connector: Connector, currency: str) -> str | None:
    """A channel takes the currencies of its delivery prices (any, while it has none)."""
    taken = set(
        DeliveryPrice.objects.filter(channel=connector.channel, active=True).values_list(
            "currency", flat=True
        )
    )
    if taken and currency.upper() not in taken:
        return (
            f"The order is in {currency}; channel '{connector.channel.code}' takes "
            f"{', '.join(sorted(taken))}."
        )
    return None


def _done(
    row: StorefrontOrder, status: str, reason: str, order: Order | None = None
) -> StorefrontOrder:
    now = timezone.now()
    row.status, row.reason, row.order, row.processed_at = status, reason, order, now
    with transaction.atomic(durable=True):
        StorefrontOrder.objects.filter(pk=row.pk).update(
            status=status,
            reason=reason,
            order=order,
            processed_at=now,
            attempts=F("attempts") + 1,
            claimed_until=None,
        )
        if status == ST.APPLIED and row.remote_order_id:
            # The order is in hand: earlier deliveries of it waiting to be fixed are moot.
            StorefrontOrder.objects.filter(
                connector_id=row.connector_id,
                remote_order_id=row.remote_order_id,
                status=ST.TO_FIX,
                received_at__lte=row.received_at,
            ).exclude(pk=row.pk).update(
                status=ST.IGNORED,
                reason="A later delivery of the same order was applied.",
                order=order,
                processed_at=now,
            )
    return row


def _payload(body: bytes) -> Payload | None:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
