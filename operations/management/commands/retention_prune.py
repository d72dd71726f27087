from django.core.management.base import BaseCommand, CommandParser

from operations.retention import retention_prune


class Command(BaseCommand):
    help = (
        "Prune delivered webhook events, idempotency records, job files and internal "
        "timeline noise past their horizons (OMS_RETAIN_*), in batches. The ledger stays."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="Rows per batch, each its own transaction (default OMS_RETENTION_BATCH).",
        )

    def handle(self, *args, batch: int | None, **options) -> None:
        if batch is not None and batch < 1:
            self.stderr.write("--batch must be at least 1.")
            raise SystemExit(2)
        pruned = retention_prune(batch_size=batch)
        for kind, done in pruned.by_kind.items():
            self.stdout.write(
                f"{kind}: {done.rows} row(s) in {done.batches} batch(es),"
                f" the longest {done.longest_seconds * 1000:.0f} ms"
            )
