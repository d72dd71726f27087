"""Every write on subscriptions and deliveries made by people: API, admin, commands."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from core.kick import kick_after_commit
from outbox.emit import RELAY_KEY, RELAY_TASK
from outbox.models import Delivery, WebhookSubscription

DS = Delivery.Status


@transaction.atomic(durable=True)
def subscription_create(
    *,
    url: str,
    secret: str,
    events: list[str],
    location: models.Model | None = None,
    description: str = "",
    actor: AbstractBaseUser | None = None,
) -> WebhookSubscription:
    """Subscribe `url` to `events` (of one location, or all); it receives events from now on."""
    return WebhookSubscription.objects.create(
        url=url,
        secret=secret,
        events=sorted(set(events)),
        location=location,
        description=description,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


@transaction.atomic(durable=True)
def subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its deliveries (waiting ones are not sent)."""
    subscription.delete()


@transaction.atomic(durable=True)
def deliveries_retry_now(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """Try the waiting or dead deliveries among `ids` at once (dead ones get a new horizon);
    return how many. Delivered ones are left: replay them instead."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.OMS_WEBHOOK_HORIZON_HOURS)
    ids = list(ids)
    count = Delivery.objects.filter(id__in=ids, status__in=Delivery.WAITING).update(next_try_at=now)
    count += Delivery.objects.filter(id__in=ids, status=DS.DEAD).update(
        status=DS.FAILED, next_try_at=now, horizon_at=horizon
    )
    if count:
        kick_after_commit(task_name=RELAY_TASK, key=RELAY_KEY)
    return count


@transaction.atomic(durable=True)
def deliveries_replay(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """Send the deliveries among `ids` again, whatever their state (the same event id: a
    receiver that kept it drops the copy); return how many."""
    now = now or timezone.now()
    count = Delivery.objects.filter(id__in=list(ids)).update(
        status=DS.PENDING,
        next_try_at=now,
        horizon_at=now + timedelta(hours=settings.OMS_WEBHOOK_HORIZON_HOURS),
        claimed_until=None,
        delivered_at=None,
    )
    if count:
        kick_after_commit(task_name=RELAY_TASK, key=RELAY_KEY)
    return count
