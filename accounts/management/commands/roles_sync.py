from django.core.management.base import BaseCommand

from accounts.sync import roles_sync


class Command(BaseCommand):
    help = (
        "Create the role groups and give them the permissions their rules match "
        "(accounts/roles.py). Runs after every migrate; --reset makes each group "
        "exactly its rule, undoing changes made in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true")

    def handle(self, *args, reset: bool, **options):
        result = roles_sync(reset=reset)
        for name in result.created_groups:
            self.stdout.write(f"Created group '{name}'.")
        for name, labels in result.granted.items():
            self.stdout.write(f"{name}: gave {len(labels)} permission(s).")
        if not result.created_groups and not result.granted:
            self.stdout.write("Roles are up to date.")
