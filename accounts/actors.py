"""Who a service records as having acted."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User


def acting_person(actor: AbstractBaseUser | AnonymousUser | None) -> User | None:
    """Return `actor` when a signed-in person, else None: tasks, commands and anonymous
    requests act for nobody, and the rows they write say so."""
    # User is the user model (no AUTH_USER_MODEL): the rows' actor keys point to it.
    if isinstance(actor, User) and actor.is_authenticated:
        return actor
    return None
