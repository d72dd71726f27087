"""The shape every command that applies a partner's file shares (shipments, returns): read
the file or standard input, name the location and the person recorded as the actor, apply
it in one go, and print every bad row when the file is refused."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from inventory.models import Location


class PartnerFileCommand(BaseCommand):
    what = "file"
    location_help = "Only accept this location's rows."
    # The refusal of a file with bad rows (it carries `row_errors`).
    rejected: type[DomainError] = DomainError

    def add_arguments(self, parser):
        parser.add_argument("file", help=f"Path of the {self.what}, or - for standard input.")
        parser.add_argument("--location", help=self.location_help)
        parser.add_argument("--user", help="Username recorded as the actor.")

    def apply(self, *, data: bytes, location: Location | None, actor: Any) -> str:
        """Apply the file; return what to tell the person. Raise a DomainError with
        `row_errors` when the file is refused."""
        raise NotImplementedError

    def handle(self, *args, **options):
        data = _read(options["file"])
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
            done = self.apply(data=data, location=location, actor=actor)
        except self.rejected as error:
            for row in getattr(error, "row_errors", ()):
                self.stderr.write(f"Row {row['row']}: {row['field']}: {row['message']}")
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(done))


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from None
