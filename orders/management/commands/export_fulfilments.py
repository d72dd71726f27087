import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inventory.models import Location
from orders.exchange import fulfilments_export


class Command(BaseCommand):
    help = (
        "Write a location's fulfilment requests not yet sent as CSV (a row per SKU) and mark "
        "them sent: each request goes out in one file only. For 3PLs that work with files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--location", required=True, help="The location code.")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, *args, **options):
        location = Location.objects.filter(code=options["location"]).first()
        if location is None:
            raise CommandError(f"No location '{options['location']}'.")
        output = options["output"]

        def write(text: str) -> None:
            if output:
                # With a BOM, spreadsheets open accents right; the 3PL's tools skip it.
                Path(output).write_text(text, encoding="utf-8-sig", newline="")
            else:
                sys.stdout.write(text)
                sys.stdout.flush()

        try:
            exported = fulfilments_export(location=location, write=write)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        self.stderr.write(
            f"Exported {exported.fulfilments} request(s), {exported.rows} row(s), "
            f"for {location.code}; they are marked sent."
        )
