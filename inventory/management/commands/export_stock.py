import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inventory.models import StockLevel, StockMovement
from inventory.resources import CSV, XLSX, StockLevelResource, StockMovementResource

FORMATS = {"csv": CSV, "xlsx": XLSX}


class Command(BaseCommand):
    help = (
        "Export stock rows (or, with --movements, the ledger) as CSV or XLSX, with every "
        "cell that a spreadsheet would run as a formula escaped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--movements", action="store_true", help="Export the ledger.")
        parser.add_argument("--location", help="Only this location code.")
        parser.add_argument("--sku", help="Only this SKU.")
        parser.add_argument(
            "--format", choices=sorted(FORMATS), help="Default: from the output file name."
        )
        parser.add_argument("--output", "-o", help="File to write (default: CSV to stdout).")

    def handle(self, *args, **options):
        output = options["output"]
        name = options["format"] or (Path(output).suffix.lstrip(".").lower() if output else "csv")
        if name not in FORMATS:
            raise CommandError(f"Unknown format '{name}': use --format csv or xlsx.")
        if options["movements"]:
            resource = StockMovementResource()
            queryset = StockMovement.objects.order_by("created_at", "id")
            prefix = "stock__"
        else:
            resource = StockLevelResource()
            queryset = StockLevel.objects.order_by("product__sku", "location__code")
            prefix = ""
        if options["location"]:
            queryset = queryset.filter(**{f"{prefix}location__code": options["location"]})
        if options["sku"]:
            queryset = queryset.filter(**{f"{prefix}product__sku": options["sku"]})
        file_format = FORMATS[name]()
        dataset = resource.export(queryset=queryset, force_native_type=name == "xlsx")
        data = file_format.export_data(dataset)
        if output:
            content = data if isinstance(data, bytes) else data.encode("utf-8-sig")
            Path(output).write_bytes(content)
            self.stdout.write(f"Wrote {len(dataset)} row(s) to {output}.")
        elif isinstance(data, bytes):
            raise CommandError("XLSX needs --output.")
        else:
            sys.stdout.write(data)
