"""Who hears of a location's alerts by e-mail: its staff, through `accounts` memberships.

The one place that answers it, so the digest does not know how staff are tied to places.
Alerts with no location (network totals, backorders, a webhook for every location) go to
head office: active staff users with no membership.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts.models import Membership


def digest_recipients() -> dict[int, frozenset[int] | None]:
    """Return `{user id: the location ids whose alerts they get, or None for every alert}`
    for the people who receive alert e-mails (active, with an address)."""
    User = get_user_model()  # a class, named as one
    by_user: dict[int, set[int]] = {}
    for user_id, location_id in Membership.objects.filter(
        user__is_active=True, user__email__gt=""
    ).values_list("user_id", "location_id"):
        by_user.setdefault(user_id, set()).add(location_id)
    recipients: dict[int, frozenset[int] | None] = {
        user_id: frozenset(ids) for user_id, ids in by_user.items()
    }
    head_office = (
        User.objects.filter(is_active=True, is_staff=True, email__gt="")
        .exclude(pk__in=list(by_user))
        .values_list("pk", flat=True)
    )
    for user_id in head_office:
        recipients[user_id] = None
    return recipients
