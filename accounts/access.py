"""A user's permissions, locations and channels read inside the API's token query.

Every API request needs them (accounts.permissions, accounts.scoping): correlated
subqueries in the one statement that reads the token cost far less than the ORM queries
they replace, about 1 ms per request (bench/orders.py; docs/performance.md).
"""

from __future__ import annotations

from django.db import connection

from accounts.models import ChannelScope, Membership


def _aggregate(expression: str) -> str:
    if connection.vendor == "postgresql":
        return f"string_agg({expression}, ',')"
    return f"group_concat({expression}, ',')"


def access_columns(user_pk_sql: str) -> str:
    """Return three SELECT columns: the user's "app.codename" permissions, location ids and
    channel ids."""
    permission = _aggregate("ct.app_label || '.' || p.codename")
    location = _aggregate("CAST(m.location_id AS TEXT)")
    channel = _aggregate("CAST(c.channel_id AS TEXT)")
    return (
        f"(SELECT {permission} FROM auth_permission p"
        " JOIN django_content_type ct ON ct.id = p.content_type_id"
        " WHERE p.id IN (SELECT gp.permission_id FROM auth_group_permissions gp"
        " JOIN auth_user_groups ug ON ug.group_id = gp.group_id"
        f" WHERE ug.user_id = {user_pk_sql}"
        " UNION SELECT up.permission_id FROM auth_user_user_permissions up"
        f" WHERE up.user_id = {user_pk_sql})),"
        f" (SELECT {location} FROM {Membership._meta.db_table} m"
        f" WHERE m.user_id = {user_pk_sql}),"
        f" (SELECT {channel} FROM {ChannelScope._meta.db_table} c"
        f" WHERE c.user_id = {user_pk_sql})"
    )


def remember_access(
    user, permissions: str | None, locations: str | None, channels: str | None
) -> None:
    """Cache what `access_columns` read on the user, where ModelBackend,
    `location_ids_for` and `channel_ids_for` look first."""
    user._perm_cache = set(permissions.split(",")) if permissions else set()
    user._oms_location_ids = _ids(locations)
    user._oms_channel_ids = _ids(channels)


def _ids(joined: str | None) -> frozenset[int] | None:
    return frozenset(int(pk) for pk in joined.split(",")) if joined else None
