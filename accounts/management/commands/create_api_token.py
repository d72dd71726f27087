from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import ChannelScope, Membership
from accounts.roles import INTEGRATION, ROLE_NAMES
from accounts.sync import roles_sync


class Command(BaseCommand):
    help = (
        "Print the API token of USERNAME (for `Authorization: Token <key>`), creating the token "
        "and, if missing, the user (with an unusable password: an API-only account). Running "
        "it again prints the same token. --location and --channel limit the token to those "
        "locations (a warehouse, store or 3PL) and/or sales channels (a storefront); given "
        "again, they replace the user's scopes (both kinds: a run with --location only "
        "leaves no channel scope). Without them the scopes stay as they are. A token with no "
        "scope reaches the whole network, as its role allows."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            choices=ROLE_NAMES,
            default=None,
            help=(
                f"The user's role (default '{INTEGRATION}' for a new user or one with no "
                "role); given, it replaces the user's roles."
            ),
        )
        parser.add_argument(
            "--location",
            action="append",
            default=[],
            metavar="CODE",
            help="Limit the token to this location (repeat for more).",
        )
        parser.add_argument(
            "--channel",
            action="append",
            default=[],
            metavar="CODE",
            help="Limit the token to this sales channel (repeat for more).",
        )

    @transaction.atomic
    def handle(self, *args, username: str, role, location, channel, **options):
        username = username.strip()
        if not username:
            raise CommandError("Give a user name.")
        locations = _by_code("inventory", "Location", location, "location")
        channels = _by_code("orders", "Channel", channel, "channel")
        users = get_user_model()
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users(username=username)
            user.set_unusable_password()
            user.save()
            _role_give(user, role or INTEGRATION)
            self.stderr.write(
                f"Created user '{username}' with an unusable password and the "
                f"'{role or INTEGRATION}' role: it can call the API but not log in to the admin."
            )
        elif not user.is_active:
            raise CommandError(f"User '{username}' is inactive; its token would be refused.")
        elif role is not None:
            _role_give(user, role)
            self.stderr.write(f"User '{username}' now has the role '{role}' only.")
        elif not user.is_superuser and not user.groups.exists():
            # A user with no role may do nothing through the API: a token asked for it is
            # meant to work, so it gets the integration role (a person can change it later).
            _role_give(user, INTEGRATION)
            self.stderr.write(f"User '{username}' had no role; it now has '{INTEGRATION}'.")
        if locations or channels:
            _scopes_replace(user, locations=locations, channels=channels)
            self.stderr.write(f"Token of '{username}' limited to {_describe(locations, channels)}.")
        token, _ = Token.objects.get_or_create(user=user)
        # Only the key on stdout, so scripts can take it: TOKEN=$(manage.py create_api_token x)
        self.stdout.write(token.key)


def _by_code(app_label: str, model_name: str, codes: list[str], what: str) -> list:
    """Return the rows named by `codes`; a CommandError naming every unknown one."""
    wanted = list(dict.fromkeys(code.strip() for code in codes))
    if not wanted:
        return []
    # By name: locations and channels belong to the domains above accounts.
    model = apps.get_model(app_label, model_name)
    found = {row.code: row for row in model.objects.filter(code__in=wanted)}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise CommandError(f"Unknown {what} code(s): {', '.join(unknown)}.")
    return [found[code] for code in wanted]


def _role_give(user, role: str) -> None:
    """Make `role` (accounts.roles) the user's only role."""
    group = Group.objects.filter(name=role).first()
    if group is None:
        # The roles are made after every migrate; someone deleted this one since.
        roles_sync()
        group = Group.objects.get(name=role)
    user.groups.set([group])


def _scopes_replace(user, *, locations: list, channels: list) -> None:
    Membership.objects.filter(user=user).exclude(location__in=locations).delete()
    for place in locations:
        Membership.objects.get_or_create(user=user, location=place)
    ChannelScope.objects.filter(user=user).exclude(channel__in=channels).delete()
    for sales_channel in channels:
        ChannelScope.objects.get_or_create(user=user, channel=sales_channel)


def _describe(locations: list, channels: list) -> str:
    parts = []
    if locations:
        parts.append("location(s) " + ", ".join(place.code for place in locations))
    if channels:
        parts.append("channel(s) " + ", ".join(c.code for c in channels))
    return " and ".join(parts)
