"""Reads of alerts: what a person may see, and how many of them wait for someone."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from accounts.scoping import location_ids_for
from alerts.models import Alert, AlertQuerySet


def alerts_visible_to(user: AbstractBaseUser | AnonymousUser | None) -> AlertQuerySet:
    """Return the alerts `user` may see: those of their locations when they have
    memberships (network and order-wide alerts are for head office), else all."""
    alerts = Alert.objects.all()
    location_ids = location_ids_for(user)
    if location_ids is None:
        return alerts
    return alerts.filter(location_id__in=location_ids)


def alerts_waiting_count(
    user: AbstractBaseUser | AnonymousUser | None, *, now: datetime | None = None
) -> int:
    """Return how many alerts `user` sees that are open (not acknowledged) and not snoozed."""
    now = now or timezone.now()
    return alerts_visible_to(user).filter(status=Alert.Status.OPEN).awake(now).count()
