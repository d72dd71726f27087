"""Propose transfers for every store under its reorder line, from the cheapest location
that can spare the units; a person confirms them in the console (/console/supply/)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from supply.models import ReplenishmentRun
from supply.services.replenishment import replenishment_run


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        run = replenishment_run(run_id=ReplenishmentRun.objects.create().pk)
        self.stdout.write(
            f"Run #{run.pk}: {run.short_rows:,} store rows under their reorder line, "
            f"{run.short_units:,} units short; proposed {run.proposals:,} transfers "
            f"({run.lines:,} lines, {run.units:,} units); {run.unmet_units:,} units no "
            f"location can spare; {run.seconds:.2f} s."
        )
