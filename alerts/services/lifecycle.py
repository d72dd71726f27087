"""A person's actions on an alert: acknowledge, snooze, resolve.

Each is one conditional UPDATE that names the statuses it may start from and checks that
one row changed: an evaluation resolving the alert at the same moment wins or loses
cleanly, never half.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.actors import acting_person
from alerts.badge import badge_forget
from alerts.exceptions import AlertConflict, InvalidSnooze
from alerts.models import Alert
from alerts.transitions import ALLOWED

Status = Alert.Status


def _from(target: str) -> list[str]:
    return [status for status, targets in ALLOWED.items() if target in targets]


def _reload(alert: Alert) -> Alert:
    # Every action ends here: what the badge counts may have changed.
    badge_forget()
    alert.refresh_from_db()
    return alert


@transaction.atomic(durable=True)
def alert_acknowledge(
    *, alert: Alert, actor: AbstractBaseUser | None, now: datetime | None = None
) -> Alert:
    """Mark that someone is on it. Acknowledging twice is harmless; a resolved alert refuses."""
    return alert_acknowledge_in_transaction(alert=alert, actor=actor, now=now)


def alert_acknowledge_in_transaction(
    *, alert: Alert, actor: AbstractBaseUser | None, now: datetime | None = None
) -> Alert:
    """`alert_acknowledge` inside the caller's transaction, for an action that acts on an
    alert and acknowledges it in one commit (supply's one-click transfer)."""
    now = now or timezone.now()
    changed = Alert.objects.filter(pk=alert.pk, status__in=_from(Status.ACKNOWLEDGED)).update(
        status=Status.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=acting_person(actor)
    )
    alert = _reload(alert)
    if not changed and alert.status != Status.ACKNOWLEDGED:
        raise AlertConflict("This alert is resolved: there is nothing left to acknowledge.")
    return alert


@transaction.atomic(durable=True)
def alert_snooze(
    *,
    alert: Alert,
    until: datetime,
    actor: AbstractBaseUser | None,
    now: datetime | None = None,
) -> Alert:
    """Keep the alert out of the badge and e-mails until `until`; it still resolves itself."""
    now = now or timezone.now()
    if until <= now:
        raise InvalidSnooze("Snooze until a time in the future.", field="until")
    changed = (
        Alert.objects.filter(pk=alert.pk)
        .exclude(status=Status.RESOLVED)
        .update(snoozed_until=until)
    )
    alert = _reload(alert)
    if not changed:
        raise AlertConflict("This alert is resolved: there is nothing to snooze.")
    return alert


@transaction.atomic(durable=True)
def alert_resolve(
    *, alert: Alert, actor: AbstractBaseUser | None, now: datetime | None = None
) -> Alert:
    """Close the alert by hand. If its condition still holds, the next evaluation opens a
    new one: to quieten an alert for a while, snooze it."""
    now = now or timezone.now()
    changed = Alert.objects.filter(pk=alert.pk, status__in=_from(Status.RESOLVED)).update(
        status=Status.RESOLVED,
        resolved_at=now,
        resolved_by=acting_person(actor),
        resolution=Alert.Resolution.MANUAL,
    )
    alert = _reload(alert)
    if not changed:
        raise AlertConflict("This alert is already resolved.")
    return alert
