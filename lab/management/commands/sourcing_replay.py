"""Replay a period of real orders under a sourcing policy; print it beside what happened.

    manage.py sourcing_replay --from 2026-11-01 --to 2026-11-30 --set OMS_SPLIT_PENALTY=5 \
        --exclude-location DC-MARSEILLE:2026-11-10..2026-11-23 --cost-file costs.csv

The run is kept (the console's sourcing lab lists it, to compare with others).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lab.models import ReplayRun
from lab.policy import SETTABLE, ReplayInputError, days_read, policy_read
from lab.services import replay_run_create, replay_run_csv, replay_run_execute
from sourcing import STRATEGIES

ROWS = (
    ("orders", "orders", "{:,}"),
    ("logistics cost", "cost", "{:,.2f}"),
    ("cost per order", "cost_per_order", "{:,.2f}"),
    ("parcels", "parcels", "{:,}"),
    ("parcels per order", "parcels_per_order", "{:.3f}"),
    ("units allocated", "units", "{:,}"),
    ("units unfilled or backordered", "unfilled", "{:,}"),
    ("kilometres", "km", "{:,.0f}"),
    ("promised on time", "on_time_share", "{:.1%}"),
)


class Command(BaseCommand):
    help = "Replay a period's orders under another sourcing policy; compare with what happened."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--strategy", choices=STRATEGIES)
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a sourcing setting for the replay: {', '.join(SETTABLE)}",
        )
        parser.add_argument(
            "--exclude-location",
            action="append",
            default=[],
            metavar="CODE[:FIRST..LAST]",
            help="never source from CODE (on those days only, when given)",
        )
        parser.add_argument(
            "--let-ship",
            action="append",
            default=[],
            metavar="CODE",
            help="let a location that does not ship parcels ship them (STORES: every store)",
        )
        parser.add_argument(
            "--cost-file",
            metavar="F",
            help="CSV location,shipment_cost,cost_per_km,unit_cost: the costs to plan with",
        )
        parser.add_argument("--name", default="", help="a name for the run")
        parser.add_argument("--csv", type=Path, help="write the per-order CSV here")

    def handle(self, *args, **options):
        try:
            policy = policy_read(
                strategy=options["strategy"],
                sets=options["set"],
                exclude=options["exclude_location"],
                let_ship=options["let_ship"],
                cost_file=options["cost_file"],
            )
            first, last = days_read(options["first"], options["last"])
            run = replay_run_create(
                actor=None,
                first_day=first,
                last_day=last,
                policy=policy,
                name=options["name"],
                source=ReplayRun.Source.COMMAND,
            )
        except ReplayInputError as error:
            raise CommandError(
                f"--{(error.field or '').replace('_', '-')}: {error.message}"
            ) from None
        done = replay_run_execute(run_id=run.pk, echo=self.progress)
        sys.stderr.write("\n")
        if done is None or done.status != ReplayRun.Status.DONE:
            raise CommandError(done.message if done else "The run was taken by another worker.")
        if options["csv"]:
            options["csv"].write_bytes(replay_run_csv(ReplayRun.objects.get(pk=done.pk)))
        self.report(done)

    def progress(self, done: int, total: int) -> None:
        sys.stderr.write(f"\r{done:,} / {total:,} orders")

    def report(self, run: ReplayRun) -> None:
        summary = run.summary
        write = self.stdout.write
        write(f"Replay #{run.pk}: {run.first_day} .. {run.last_day}, {run.elapsed_seconds:.1f} s")
        write(f"policy: {run.policy}")
        write(f"{'':32} {'real':>14} {'replay':>14}")
        for label, key, shape in ROWS:
            real, again = summary["real"][key], summary["replay"][key]
            write(f"{label:32} {_cell(shape, real):>14} {_cell(shape, again):>14}")
        write(f"orders planned differently: {summary['changed']:,}")
        write("by channel (logistics cost real / replay, parcels per order real / replay):")
        for row in summary["by_channel"]:
            real, again = row["real"], row["replay"]
            write(
                f"  {row['channel']:20} {real['cost']:>12,.2f} {again['cost']:>12,.2f}"
                f" {real['parcels_per_order']:>7.3f} {again['parcels_per_order']:>7.3f}"
            )
        write("by location (units real / replay):")
        for row in summary["by_location"]:
            write(f"  {row['location']:20} {row['real']['units']:>9,} {row['replay']['units']:>9,}")


def _cell(shape: str, value) -> str:
    return "—" if value is None else shape.format(value)
