"""Which locations a user may see and act on: one answer for admin, console, API and tasks."""

from __future__ import annotations

from django.apps import apps
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Membership


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


def is_limited(user) -> bool:
    """Return True when `user` sees only the locations of its memberships."""
    return location_ids_for(user) is not None


def scope_to_locations(queryset: QuerySet, user, path: str) -> QuerySet:
    """Narrow `queryset` to rows whose `path` (e.g. "stock__location") is one of the user's
    locations; unchanged for users not limited by place."""
    ids = location_ids_for(user)
    if ids is None:
        return queryset
    lookup = {f"{path}__in": ids}
    if lookup_spawns_duplicates(queryset.model._meta, path):
        # Through a to-many relation (a reservation's lines) a join would repeat rows.
        return queryset.filter(pk__in=queryset.model._base_manager.filter(**lookup).values("pk"))
    return queryset.filter(**lookup)


def location_allowed(user, location_id: int | None) -> bool:
    ids = location_ids_for(user)
    return ids is None or location_id in ids


def orders_visible_q(ids: frozenset[int], prefix: str = "") -> Q:
    """Orders a location's staff may see: a fulfilment or allocation there, or a pickup at it."""
    # By name: accounts sits below the domains and imports none of them.
    Fulfilment = apps.get_model("fulfilment", "Fulfilment")
    Allocation = apps.get_model("inventory", "Allocation")
    ref = OuterRef(f"{prefix}pk")
    return (
        Q(**{f"{prefix}pickup_location_id__in": ids})
        | Exists(Fulfilment.objects.filter(order_id=ref, location_id__in=ids))
        | Exists(Allocation.objects.filter(order_line__order_id=ref, stock__location_id__in=ids))
    )


def scope_orders(queryset: QuerySet, user, prefix: str = "") -> QuerySet:
    """Narrow orders (or rows with an order at `prefix`, e.g. "order__") to those the user's
    locations work on."""
    ids = location_ids_for(user)
    if ids is None:
        return queryset
    return queryset.filter(orders_visible_q(ids, prefix))


def scope_by_colleagues(queryset: QuerySet, user, actor_path: str = "actor") -> QuerySet:
    """Narrow rows written by a person (count imports) to those written by people of the
    user's locations: a file has no single location of its own."""
    ids = location_ids_for(user)
    if ids is None:
        return queryset
    colleagues = Membership.objects.filter(
        user_id=OuterRef(f"{actor_path}_id"), location_id__in=ids
    )
    return queryset.filter(Exists(colleagues))
