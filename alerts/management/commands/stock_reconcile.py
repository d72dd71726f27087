from django.core.management.base import BaseCommand, CommandError

from alerts.services import stock_reconcile


class Command(BaseCommand):
    help = (
        "Verify on_hand = sum of movements and allocated = sum of open allocations for every "
        "stock row. Prints any drift and exits non-zero when there is some."
    )

    def handle(self, *args, **options):
        drift = stock_reconcile()
        for item in drift:
            self.stdout.write(str(item))
        if drift:
            raise CommandError(f"{len(drift)} drift(s) found.")
        self.stdout.write(self.style.SUCCESS("Stock balances agree with the ledger."))
