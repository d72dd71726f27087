"""The alerts badge on every staff page: the open count, from the cache.

Counting costs a query (and the console must answer fast on a large database), so the
count is kept per person in the default cache for `TTL` seconds, counted when they sign
in and again only once it expired. Whatever changes what a badge shows (an evaluation
opening, reopening or resolving alerts; a person acknowledging, snoozing, resolving)
calls `badge_forget`, which retires every cached count at once by changing the
generation the keys carry. Only a snooze running out goes unannounced: the TTL bounds it.
"""

from __future__ import annotations

from uuid import uuid4

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction

from alerts.selectors import alerts_waiting_count

TTL = 60  # seconds
GENERATION = "alerts-badge-generation"


def badge_count(user: AbstractBaseUser) -> int:
    """Return the open alerts `user` sees, cached; count them if not cached."""
    key = _key(user)
    count = cache.get(key)
    if count is None:
        count = badge_warm(user, key=key)
    return count


def badge_warm(user: AbstractBaseUser, *, key: str | None = None) -> int:
    """Count `user`'s open alerts now and cache the figure (at sign-in, or on a miss)."""
    count = alerts_waiting_count(user)
    cache.set(key or _key(user), count, TTL)
    return count


def badge_forget() -> None:
    """Retire every cached count: now, and again once this transaction commits (a page
    rendered in between would otherwise cache the figure from before the change)."""
    cache.set(GENERATION, uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(GENERATION, uuid4().hex, None))


def _key(user: AbstractBaseUser) -> str:
    generation = cache.get(GENERATION)
    if generation is None:
        generation = uuid4().hex
        # add: two processes starting at once agree on one generation.
        if not cache.add(GENERATION, generation, None):
            generation = cache.get(GENERATION, generation)
    return f"alerts-badge:{generation}:{user.pk}"


def badge_warm_at_login(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: staff see the badge on their first page."""
    if user.is_staff:
        badge_warm(user)
