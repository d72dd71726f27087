"""A user's permissions, locations and channels read inside the API's token query.

Every API request needs them (accounts.permissions, accounts.scoping): correlated
subqueries in the one statement that reads the token cost far less than the ORM queries
they replace, about 1 ms per request (bench/orders.py; docs/performance.md).

The grants are read on every request, as ids: a revoked grant, a user taken out of a
group or a deactivated user counts from the next request. What an id means ("app.codename")
comes from a dict kept per process: joining each grant to `auth_permission` and
`django_content_type` and concatenating the names in the statement would be most of its
work in PostgreSQL (bench/token_query.py), for names that never change meaning.
Permission rows are created by migrations (`post_migrate`), and a new one has a new id:
an id the dict does not know reloads it; `post_migrate` and a permission saved or
deleted in this process empty it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.db import connection

from accounts.models import ChannelScope, Membership


def _ids_of(column: str, rows: str) -> str:
    """Return a scalar subquery of the ids in `column` of `rows` (a FROM clause onwards):
    an array on PostgreSQL (`ARRAY(SELECT ...)` needs no aggregate step), "1,2,3" on
    SQLite."""
    if connection.vendor == "postgresql":
        return f"ARRAY(SELECT {column} FROM {rows})"
    return f"(SELECT group_concat({column}, ',') FROM {rows})"


def access_columns(user_pk_sql: str) -> str:
    """Return three SELECT columns: the ids of the user's permissions, locations and
    channels."""
    # UNION ALL: a permission granted twice (two groups, or a group and the user) is one
    # name in the set `remember_access` builds; the statement sorts nothing for it.
    grants = (
        "(SELECT gp.permission_id FROM auth_group_permissions gp"
        " JOIN auth_user_groups ug ON ug.group_id = gp.group_id"
        f" WHERE ug.user_id = {user_pk_sql}"
        " UNION ALL SELECT up.permission_id FROM auth_user_user_permissions up"
        f" WHERE up.user_id = {user_pk_sql}) g"
    )
    locations = f"{Membership._meta.db_table} m WHERE m.user_id = {user_pk_sql}"
    channels = f"{ChannelScope._meta.db_table} c WHERE c.user_id = {user_pk_sql}"
    return (
        f"{_ids_of('g.permission_id', grants)}, {_ids_of('m.location_id', locations)},"
        f" {_ids_of('c.channel_id', channels)}"
    )


def remember_access(user, permissions: object, locations: object, channels: object) -> None:
    """Cache what `access_columns` read on the user, where ModelBackend,
    `location_ids_for` and `channel_ids_for` look first."""
    user._perm_cache = permission_names(_ints(permissions))
    user._oms_location_ids = _scope(locations)
    user._oms_channel_ids = _scope(channels)


def permission_names(ids: Iterable[int]) -> set[str]:
    """Return the "app.codename" of each permission id."""
    names = _names
    try:
        return {names[pk] for pk in ids}
    except KeyError:
        pass
    # A permission created since the dict was read (by another process's migration).
    names = _reload()
    # An id gone meanwhile (its row deleted after the grant was read) grants nothing.
    return {names[pk] for pk in ids if pk in names}


_names: dict[int, str] = {}
_reload_lock = threading.Lock()


def _reload() -> dict[int, str]:
    global _names
    with _reload_lock:
        rows = Permission.objects.values_list("pk", "content_type__app_label", "codename")
        _names = {pk: f"{app_label}.{codename}" for pk, app_label, codename in rows}
        return _names


def forget_permission_names(**kwargs: object) -> None:
    """Empty the dict (a signal receiver): the next request reads the permission rows again.

    Connected in `AccountsConfig.ready` to `post_migrate` (after `migrate`, and a test
    database's flush, permission rows may be new or renumbered) and to a permission saved
    or deleted."""
    global _names
    _names = {}


def _ints(value: object) -> list[int]:
    """The ids of an `_ids_of` column: PostgreSQL's array, SQLite's "1,2,3" or None."""
    if not value:
        return []
    if isinstance(value, str):
        return [int(pk) for pk in value.split(",")]
    assert isinstance(value, list)
    return value


def _scope(value: object) -> frozenset[int] | None:
    ids = _ints(value)
    return frozenset(ids) if ids else None
