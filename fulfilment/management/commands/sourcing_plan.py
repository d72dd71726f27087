"""Print the sourcing plan of instance files: JSON for one file, JSON Lines for several."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sourcing import STRATEGIES, InvalidInstance, plan


class Command(BaseCommand):
    help = "Plan which locations fulfil each instance (see shared/sourcing/README.md)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--strategy", choices=STRATEGIES, default="optimal")
        parser.add_argument("--budget-ms", type=float, default=None, help="time budget per plan")

    def handle(self, *args, files, strategy, budget_ms, **options):
        for path in files:
            try:
                instance = json.loads(path.read_text())
                result = plan(instance, strategy, budget_ms).to_dict()
            except (OSError, ValueError) as error:  # InvalidInstance is a ValueError
                kind = "invalid instance" if isinstance(error, InvalidInstance) else "unreadable"
                raise CommandError(f"{path}: {kind}: {error}") from error
            self.stdout.write(json.dumps(result, indent=None if len(files) > 1 else 2))
