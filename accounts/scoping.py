"""Which locations and channels a user may see and act on: one answer for admin, console,
API and tasks.

A user is scoped by location memberships (store and warehouse staff, a 3PL's token) and,
for the API, by channel scopes (a storefront's token). People and admin pages go by
locations (`scope_to_locations`, `scope_orders`). The API answers every caller from the
`api_*` functions below, one per kind of object:

* rows at a location (stock, locations): a location scope reads its own; a channel scope
  the locations that serve its channels;
* location work (fulfilments, webhook subscriptions, alerts, thresholds): a location scope
  works on its own; a channel scope on none;
* orders: a channel scope reads its channels' orders; a location scope none (it sees of an
  order what its fulfilments show);
* reservations: a scoped caller sees the ones it made, on its channels.

Outside those sets an object is not there for the caller (404). Which kinds of caller may
reach a route at all is the route's scope rule (accounts.permissions).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.apps import apps
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import ChannelScope, Membership


def location_ids_for(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[int] | None:
    """Return the ids of the locations `user` is limited to, or None when not limited.

    Superusers and users with no membership are not limited by place (their permissions
    still apply). Memberships are read once per request object and cached on it.
    """
    return _scope_ids(user, "_oms_location_ids", Membership, "location_id")


def channel_ids_for(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[int] | None:
    """Return the ids of the channels `user` is limited to, or None when not limited.

    Superusers and users with no channel scope are not limited by channel. Read once per
    request object and cached on it (the API's token query reads it with the token).
    """
    return _scope_ids(user, "_oms_channel_ids", ChannelScope, "channel_id")


def _scope_ids(user, cache_attribute: str, model, column: str) -> frozenset[int] | None:
    """Return the ids of `column` in `model`'s rows of `user`, None when there are none (not
    limited), an empty set for no user; cached on the user object under `cache_attribute`
    (the API's token query fills it with the token)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, cache_attribute, False)
    if cached is not False:
        return cached
    ids = frozenset(model.objects.filter(user=user).values_list(column, flat=True))
    result = ids or None
    setattr(user, cache_attribute, result)
    return result


@dataclass(frozen=True)
class Scope:
    """The locations and the channels a caller is limited to (None: not limited by that)."""

    locations: frozenset[int] | None
    channels: frozenset[int] | None

    @property
    def unscoped(self) -> bool:
        return self.locations is None and self.channels is None

    def fingerprint(self) -> str:
        """Return a short digest that changes whenever the scope does."""
        parts = [
            "*" if ids is None else ",".join(map(str, sorted(ids)))
            for ids in (self.locations, self.channels)
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def scope_for(user) -> Scope:
    """Return the scope of `user` (an anonymous caller is limited to nothing)."""
    return Scope(locations=location_ids_for(user), channels=channel_ids_for(user))


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


# The API: one function per kind of object (see the module's docstring).


def api_location_rows(queryset: QuerySet, user, path: str) -> QuerySet:
    """Narrow rows at a location (`path` leads to it; "" for locations themselves) to those
    the caller may read."""
    scope = scope_for(user)
    if scope.locations is not None:
        return _rows_at(queryset, path, scope.locations)
    if scope.channels is None:
        return queryset
    # By name: channels belong to orders, above accounts.
    Channel = apps.get_model("orders", "Channel")
    served = Channel.locations.through.objects.filter(channel_id__in=scope.channels)
    names_none = Channel.objects.filter(pk__in=scope.channels).exclude(
        Exists(served.filter(channel_id=OuterRef("pk")))
    )
    if names_none.exists():
        # A channel that names no locations is served by every active location.
        return queryset.filter(**{f"{path}__active" if path else "active": True})
    return queryset.filter(**{f"{path or 'pk'}__in": served.values("location_id")})


def api_location_work(queryset: QuerySet, user, path: str) -> QuerySet:
    """Narrow location work (fulfilments, subscriptions, alerts, thresholds; `path` leads to
    the location) to what the caller works on: none for a caller scoped by channel only."""
    scope = scope_for(user)
    if scope.locations is not None:
        return _rows_at(queryset, path, scope.locations)
    if scope.channels is not None:
        return queryset.none()
    return queryset


def api_orders(queryset: QuerySet, user, prefix: str = "") -> QuerySet:
    """Narrow orders (or rows of an order at `prefix`, e.g. "order__") to those the caller
    reads: its channels' orders; none for a caller scoped by location only (a 3PL sees of an
    order what its fulfilments show)."""
    scope = scope_for(user)
    if scope.channels is not None:
        return queryset.filter(**{f"{prefix}channel_id__in": scope.channels})
    if scope.locations is not None:
        return queryset.none()
    return queryset


def api_reservations(queryset: QuerySet, user) -> QuerySet:
    """Narrow reservations to those the caller may read and release: a scoped caller's own
    (made with its token), on its channels."""
    scope = scope_for(user)
    if scope.unscoped:
        return queryset
    queryset = queryset.filter(actor_id=user.pk)
    if scope.channels is not None:
        queryset = queryset.filter(channel_id__in=scope.channels)
    return queryset


def api_channel_allowed(user, channel_id: int) -> bool:
    """Return whether the caller may place orders, quote or hold stock for the channel."""
    scope = scope_for(user)
    if scope.channels is not None:
        return channel_id in scope.channels
    return scope.locations is None


def _rows_at(queryset: QuerySet, path: str, ids: frozenset[int]) -> QuerySet:
    if not path:
        return queryset.filter(pk__in=ids)
    lookup = {f"{path}__in": ids}
    if lookup_spawns_duplicates(queryset.model._meta, path):
        return queryset.filter(pk__in=queryset.model._base_manager.filter(**lookup).values("pk"))
    return queryset.filter(**lookup)
