"""Print the sourcing plan of instance files: JSON for one file, JSON Lines for several."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sourcing import STRATEGIES, InvalidInstance, plan
from sourcing.jsonio import instance_from_json, plan_to_json


class Command(BaseCommand):
    help = "Plan which locations fulfil each instance (see docs/sourcing.md)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--strategy", choices=STRATEGIES, default="optimal")
        parser.add_argument("--budget-ms", type=float, default=None, help="time budget per plan")

    def handle(self, *args, files, strategy, budget_ms, **options):
        for path in files:
            try:
                instance = instance_from_json(json.loads(path.read_text()))
                result = plan_to_json(plan(instance, strategy, budget_ms))
            except (OSError, ValueError) as error:  # InvalidInstance is a ValueError
                kind = "invalid instance" if isinstance(error, InvalidInstance) else "unreadable"
                raise CommandError(f"{path}: {kind}: {error}") from error
            self.stdout.write(json.dumps(result, indent=None if len(files) > 1 else 2))
