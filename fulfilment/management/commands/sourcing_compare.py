"""Compare the sourcing strategies over instance files or a folder of them."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sourcing import STRATEGIES, InvalidInstance
from sourcing.compare import Case, compare, format_table
from sourcing.jsonio import instance_from_json, optimum_from_json


class Command(BaseCommand):
    help = "Per strategy: share of optimal plans, units left unallocated, cost and time."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
        parser.add_argument("--strategy", action="append", choices=STRATEGIES, dest="strategies")
        parser.add_argument("--budget-ms", type=float, default=None, help="time budget per plan")

    def handle(self, *args, paths, strategies, budget_ms, **options):
        files = []
        for path in paths:
            files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
        if not files:
            raise CommandError("no instance files found")
        try:
            cases = [_case(f) for f in files]
            rows = compare(cases, strategies or STRATEGIES, budget_ms=budget_ms)
        except (OSError, ValueError) as error:
            kind = "invalid instance" if isinstance(error, InvalidInstance) else "unreadable"
            raise CommandError(f"{kind}: {error}") from error
        self.stdout.write(f"{len(files)} instance(s)")
        self.stdout.write(format_table(rows))


def _case(path: Path) -> Case:
    raw = json.loads(path.read_text())
    return Case(str(path), instance_from_json(raw), optimum_from_json(raw))
