from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Membership
from accounts.roles import (
    ADMINISTRATOR,
    CUSTOMER_SERVICE,
    INTEGRATION,
    INVENTORY_MANAGER,
    STORE_STAFF,
    WAREHOUSE_STAFF,
)
from inventory.models import Location

# Published in the README: only ever on a DEBUG (local demo) instance.
PASSWORD = "demo-password"
# Where the location-bound demo people work (seed_demo's network), else the first of the kind.
DEMO_STORE = "ST-PARIS-RIVOLI"
DEMO_WAREHOUSE = "DC-PARIS"

# username -> (role, kind of location it works at or None)
DEMO_STAFF = {
    "demo-store": (STORE_STAFF, Location.Kind.STORE),
    "demo-warehouse": (WAREHOUSE_STAFF, Location.Kind.WAREHOUSE),
    "demo-service": (CUSTOMER_SERVICE, None),
    "demo-manager": (INVENTORY_MANAGER, None),
    "demo-admin": (ADMINISTRATOR, None),
    "demo-integration": (INTEGRATION, None),
}


class Command(BaseCommand):
    help = (
        f"Create one demo login per role (password '{PASSWORD}'; the integration one is "
        "API-only and gets a token), store and warehouse staff at a demo store and "
        "warehouse. Running it again changes nothing. Refused unless DEBUG is on: a "
        "published password must never exist on a real instance."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Refused: DEBUG is off. Demo logins share a password published in the README, "
                "so they are made only for a local demo (`make run` sets DEBUG=1)."
            )
        with transaction.atomic():
            places = {
                Location.Kind.STORE: _place(DEMO_STORE, Location.Kind.STORE),
                Location.Kind.WAREHOUSE: _place(DEMO_WAREHOUSE, Location.Kind.WAREHOUSE),
            }
            lines = [
                self._ensure(name, role, kind and places[kind])
                for name, (role, kind) in DEMO_STAFF.items()
            ]
        self.stdout.write("Demo logins (DEBUG only), password for people: " + PASSWORD)
        for line in lines:
            self.stdout.write(f"  {line}")

    def _ensure(self, username: str, role: str, location: Location | None) -> str:
        users = get_user_model()
        staff = role != INTEGRATION
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users(username=username, email=f"{username}@example.com", is_staff=staff)
            if staff:
                user.set_password(PASSWORD)
            else:
                # API-only: its token is its credential.
                user.set_unusable_password()
            user.save()
        user.groups.add(Group.objects.get(name=role))
        if location is not None:
            Membership.objects.get_or_create(user=user, location=location)
        where = f" @ {location.code}" if location is not None else ""
        if not staff:
            token, _ = Token.objects.get_or_create(user=user)
            return f"{username:<17} {role}{where}: API token {token.key}"
        return f"{username:<17} {role}{where}"


def _place(code: str, kind: str) -> Location:
    location = Location.objects.filter(code=code).first() or (
        Location.objects.filter(kind=kind, active=True).order_by("priority", "code").first()
    )
    if location is None:
        raise CommandError(f"No {kind} to give the demo staff: run `manage.py seed_demo` first.")
    return location
