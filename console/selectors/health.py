"""Open alerts and the webhook outbox's health, for the dashboard."""

from __future__ import annotations

import importlib.util
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count

from alerts.models import Alert
from alerts.selectors import alerts_visible_to


def open_alerts(*, user: AbstractBaseUser, now: datetime) -> dict:
    """Return the unresolved, awake alerts by kind: those `user` may see (alerts.selectors)."""
    rows = alerts_visible_to(user).unresolved().awake(now)
    labels = dict(Alert.Kind.choices)
    by_kind = [
        (labels.get(kind, kind), n)
        for kind, n in rows.order_by().values_list("kind").annotate(n=Count("id")).order_by("-n")
    ]
    return {
        "total": sum(n for _, n in by_kind),
        "open": rows.filter(status=Alert.Status.OPEN).order_by().count(),
        "by_kind": by_kind,
    }


def outbox_health() -> dict | None:
    """Return the outbox's waiting, failing and dead deliveries (outbox), or None
    where this deployment's outbox has no health reading."""
    if importlib.util.find_spec("outbox.selectors") is None:
        return None
    from outbox.selectors import outbox_health as health

    return health()
