import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inventory.countfile import parse_counted_at
from inventory.exceptions import CountRejected
from inventory.models import StockCountImport
from inventory.services.counts import stock_count_file_apply, stock_count_file_preview


class Command(BaseCommand):
    help = (
        "Apply a stock count file (CSV: sku,location,quantity[,counted_at]) as one "
        "transaction. Any bad row rejects the whole file; every bad row is printed. "
        "The same file applied twice is counted once."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the count file, or - for standard input.")
        parser.add_argument(
            "--counted-at",
            help="When the shelves were counted, for rows without counted_at (ISO 8601; "
            "default: now). Movements recorded after it are re-applied on top.",
        )
        parser.add_argument("--user", help="Username recorded as the actor of the movements.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and show the changes; write nothing."
        )

    def handle(self, *args, **options):
        data = self._read(options["file"])
        counted_at = self._counted_at(options["counted_at"])
        actor = self._actor(options["user"])
        name = Path(options["file"]).name if options["file"] != "-" else "stdin"
        try:
            if options["dry_run"]:
                preview = stock_count_file_preview(data=data, counted_at=counted_at)
                changes, done = preview.changes, preview.already_applied
            else:
                outcome = stock_count_file_apply(
                    data=data,
                    actor=actor,
                    source=StockCountImport.Source.COMMAND,
                    file_name=name,
                    counted_at=counted_at,
                )
                changes = outcome.changes
                done = outcome.count_import if outcome.already_applied else None
        except CountRejected as exc:
            for error in exc.row_errors:
                self.stderr.write(f"Row {error['row']}: {error['message']}")
            raise CommandError(exc.message) from None
        verbosity = options["verbosity"]
        for change in changes if verbosity > 1 else ():
            self.stdout.write(
                f"row {change.row}: {change.sku} @ {change.location}: {change.before} -> "
                f"{change.after} (counted {change.counted}, later {change.later:+d}, "
                f"difference {change.difference:+d})"
            )
        moved = sum(1 for change in changes if change.difference)
        if done is not None:
            self.stdout.write(
                self.style.WARNING(
                    f"This file was already applied as import #{done.pk} on "
                    f"{timezone.localtime(done.applied_at or done.created_at):%Y-%m-%d %H:%M}; "
                    "nothing was changed."
                )
            )
        elif options["dry_run"]:
            self.stdout.write(
                f"Dry run: {len(changes)} row(s) would be counted, {moved} balance(s) would "
                "change. Nothing was written."
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Applied {len(changes)} count(s) as import #{outcome.count_import.pk}; "
                    f"{moved} balance(s) changed."
                )
            )

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None

    def _counted_at(self, value: str | None):
        if not value:
            return None
        parsed, problem = parse_counted_at(value)
        if problem:
            raise CommandError(problem)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, ZoneInfo(timezone.get_current_timezone_name()))
        return parsed

    def _actor(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user '{username}'.") from None
