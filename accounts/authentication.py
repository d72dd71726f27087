"""DRF's token authentication, with the token and its user read in one plain query.

Every API request authenticates first, and DRF's ORM read of the token
(`select_related("user")`) cost more app time than all the stock reads of an order
(bench/orders.py). The header, the answers and the errors are DRF's own: only
`authenticate_credentials` is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import ForeignKey, Model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import authentication, exceptions
from rest_framework.settings import api_settings

from accounts.access import access_columns, remember_access
from core.sql import column, instances


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `TokenAuthentication`, reading the token with one plain query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token_model, user_model = self.get_model(), get_user_model()
        statement, token_fields, user_fields, user_fk = _token_query(
            token_model, user_model, connection.vendor
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        [token] = instances(token_model, token_fields, [row[: len(token_fields)]])
        user_row = row[len(token_fields) : len(token_fields) + len(user_fields)]
        [user] = instances(user_model, user_fields, [user_row])
        remember_access(user, *row[len(token_fields) + len(user_fields) :])
        user_fk.set_cached_value(token, user)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, token)


# drf-spectacular documents this subclass as DRF's own "tokenAuth" scheme, which it is (the
# same header): views using either class do not collide in the schema.
set_override(TokenAuthentication, "suppress_collision_warning", True)


def authentication_classes() -> list[type[authentication.BaseAuthentication]]:
    """Return the project's authentication classes, DRF's token one swapped for the above.

    The settings name the class above already; this keeps a view correct if they don't.
    """
    # `api_settings` imports the dotted paths of the setting; the stubs type them as strings.
    configured = cast(
        Sequence[type[authentication.BaseAuthentication]],
        api_settings.DEFAULT_AUTHENTICATION_CLASSES,
    )
    return [
        TokenAuthentication if cls is authentication.TokenAuthentication else cls
        for cls in configured
    ]


@cache
def _token_query(
    token_model: type[Model], user_model: type[Model], vendor: str
) -> tuple[str, tuple[str, ...], tuple[str, ...], ForeignKey[Any, Any]]:
    """Return the statement reading a token with its user and their access, the token's
    and the user's fields in its columns, and the token's key to its user. Built once per
    process (the models and the database do not change while it runs), not per request."""
    user_fk = token_model._meta.get_field("user")
    assert isinstance(user_fk, ForeignKey)  # DRF's Token model: `user` is a one-to-one key
    user_pk, token_pk = column(user_model._meta.pk), column(token_model._meta.pk)
    quote = connection.ops.quote_name
    statement = (
        f"SELECT {_columns('t', token_model)}, {_columns('u', user_model)}"
        # The user's permissions and locations, for the checks every view makes.
        f", {access_columns('u.' + quote(user_pk))}"
        f" FROM {token_model._meta.db_table} t"
        f" JOIN {user_model._meta.db_table} u"
        f" ON u.{quote(user_pk)} = t.{quote(column(user_fk))}"
        f" WHERE t.{quote(token_pk)} = %s"
    )
    return statement, _attnames(token_model), _attnames(user_model), user_fk


def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def _columns(alias: str, model: type[Model]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(column(field))}" for field in model._meta.concrete_fields)
