"""The alerts badge: how many open alerts wait, on every staff page that shows it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from alerts.badge import badge_count


def alerts_badge(request: HttpRequest) -> dict:
    """Add `alerts_waiting`, read only if a template shows it: from the cache, so most
    pages pay no query for it (alerts.badge)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {"alerts_waiting": SimpleLazyObject(lambda: badge_count(user))}
