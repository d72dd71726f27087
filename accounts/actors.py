"""Who a service records as having acted."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def acting_person(actor: AbstractBaseUser | AnonymousUser | None) -> AbstractBaseUser | None:
    """Return `actor` when a signed-in person, else None: tasks, commands and anonymous
    requests act for nobody, and the rows they write say so."""
    if actor is None or isinstance(actor, AnonymousUser) or not actor.is_authenticated:
        return None
    return actor
