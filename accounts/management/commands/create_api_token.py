from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.roles import INTEGRATION
from accounts.sync import roles_sync


class Command(BaseCommand):
    help = (
        "Print the API token of USERNAME (for `Authorization: Token <key>`), creating the token "
        "and, if missing, the user (with an unusable password: an API-only account). Running "
        "it again prints the same token."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    @transaction.atomic
    def handle(self, *args, username: str, **options):
        username = username.strip()
        if not username:
            raise CommandError("Give a user name.")
        users = get_user_model()
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users(username=username)
            user.set_unusable_password()
            user.save()
            _integration_join(user)
            self.stderr.write(
                f"Created user '{username}' with an unusable password and the "
                f"'{INTEGRATION}' role: it can call the API but not log in to the admin."
            )
        elif not user.is_active:
            raise CommandError(f"User '{username}' is inactive; its token would be refused.")
        elif not user.is_superuser and not user.groups.exists():
            # A user with no role may do nothing through the API: a token asked for it is
            # meant to work, so it gets the integration role (a person can change it later).
            _integration_join(user)
            self.stderr.write(f"User '{username}' had no role; it now has '{INTEGRATION}'.")
        token, _ = Token.objects.get_or_create(user=user)
        # Only the key on stdout, so scripts can take it: TOKEN=$(manage.py create_api_token x)
        self.stdout.write(token.key)


def _integration_join(user) -> None:
    """Give `user` the integration role (accounts.roles): what an API-only account does."""
    group = Group.objects.filter(name=INTEGRATION).first()
    if group is None:
        # The roles are made after every migrate; someone deleted this one since.
        roles_sync()
        group = Group.objects.get(name=INTEGRATION)
    user.groups.add(group)
