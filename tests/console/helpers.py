"""People of each role for console tests: staff users in the groups the roles migration makes."""

from __future__ import annotations

from django.contrib.auth.models import Group

from accounts.models import Membership
from inventory.models import Location
from tests.factories import UserFactory


def person(username: str, role: str, *locations: Location):
    """Return a staff user in `role`'s group, limited to `locations` when any are given."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for location in locations:
        Membership.objects.create(user=user, location=location)
    return user
