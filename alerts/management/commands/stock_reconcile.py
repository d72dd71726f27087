from django.core.management.base import BaseCommand, CommandError

from alerts.services import stock_reconcile
from inventory.services.repair import stock_counters_repair


class Command(BaseCommand):
    help = (
        "Verify on_hand = sum of movements, allocated = sum of open allocations and "
        "reserved = sum of active reservation lines for every stock row. Prints any drift "
        "and exits non-zero when there is some. With --repair, first sets allocated and "
        "reserved back to their sums (on_hand is left to a person)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Set drifting allocated and reserved counters to their sums first.",
        )

    def handle(self, *args, **options):
        if options["repair"]:
            for item in stock_counters_repair():
                self.stdout.write(f"repaired: {item}")
        drift = stock_reconcile()
        for item in drift:
            self.stdout.write(str(item))
        if drift:
            raise CommandError(f"{len(drift)} drift(s) found.")
        self.stdout.write(self.style.SUCCESS("Stock balances agree with the ledger."))
