"""Which locations a user may see and act on: one answer for admin, console, API and tasks."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from oms.accounts.models import Membership


def location_ids_for(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[int] | None:
    """Return the ids of the locations `user` is limited to, or None when not limited.

    Superusers and users with no membership are not limited by place (their permissions
    still apply). Memberships are read once per request object and cached on it.
    """
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, "_oms_location_ids", False)
    if cached is not False:
        return cached
    ids = frozenset(Membership.objects.filter(user=user).values_list("location_id", flat=True))
    result = ids or None
    user._oms_location_ids = result
    return result
