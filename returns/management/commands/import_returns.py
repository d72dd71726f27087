import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.models import Location
from returns.imports import ReturnsRejected, returns_import


class Command(BaseCommand):
    help = (
        "Receive the returns of a 3PL's file (CSV: return,sku,quantity,disposition) in one "
        "transaction: restock puts units back on hand, damaged into quarantine, dispose "
        "records them. Any bad row rejects the whole file; every bad row is printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the returns file, or - for standard input.")
        parser.add_argument(
            "--location",
            help="Where the units were received (and only returns expected there); "
            "default: each return's own location.",
        )
        parser.add_argument("--user", help="Username recorded as the actor.")

    def handle(self, *args, **options):
        data = self._read(options["file"])
        location = None
        if options["location"]:
            location = Location.objects.filter(code=options["location"]).first()
            if location is None:
                raise CommandError(f"No location '{options['location']}'.")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user '{options['user']}'.")
        try:
            received = returns_import(data=data, location=location, actor=actor)
        except ReturnsRejected as error:
            for row in error.row_errors:
                self.stderr.write(f"Row {row['row']}: {row['field']}: {row['message']}")
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Received {received} return(s)."))

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
