"""The alerts badge: how many open alerts wait, on every staff page that shows it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from alerts.selectors import alerts_waiting_count


def alerts_badge(request: HttpRequest) -> dict:
    """Add `alerts_waiting`, counted only if a template reads it (one COUNT query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {"alerts_waiting": SimpleLazyObject(lambda: alerts_waiting_count(user))}
