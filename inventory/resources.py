"""django-import-export resources and formats for inventory: mapping only.

Exports escape every cell a spreadsheet would run as a formula. The import of stock
counts maps the admin's upload, preview and confirm onto `inventory.services.counts`:
the same service as the API and the command, not a row-by-row import.
"""

from __future__ import annotations

import re
from datetime import datetime

import tablib
from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.formats import base_formats
from import_export.results import Result, RowResult

from inventory.exceptions import CountRejected
from inventory.models import Product, StockCountImport, StockLevel, StockMovement
from inventory.services.counts import (
    CountChange,
    CountPreview,
    stock_count_file_apply,
    stock_count_file_preview,
)

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (or
# start one, for tab and carriage return): OWASP "CSV injection".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def escape_formula(value):
    """Return a cell value a spreadsheet shows as text: prefix a would-be formula with '.

    Numbers stay numbers: "-3" is a quantity, not a formula.
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class EscapingFormatMixin:
    """Replace django-import-export's own escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT),
    which only strips a leading "=" (so "=1+2" becomes "1+2", and "+", "-", "@", tab and
    CR pass) and turns every cell, numbers and blanks too, into a string."""

    def _escape_formulae(self, dataset: tablib.Dataset) -> None:
        for index, row in enumerate(dataset):
            dataset[index] = tuple(escape_formula(cell) for cell in row)


class CSV(EscapingFormatMixin, base_formats.CSV):
    pass


class XLSX(EscapingFormatMixin, base_formats.XLSX):
    pass


EXPORT_FORMATS = [CSV, XLSX]


class EscapingResource(resources.ModelResource):
    """A resource whose exported cells never run as formulas, whatever the format."""

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = super().export_resource(instance, selected_fields=selected_fields, **kwargs)
        return [escape_formula(value) for value in row]


class ProductResource(EscapingResource):
    class Meta:
        model = Product
        fields = ("sku", "name", "barcode", "price", "active")
        export_order = fields


class StockLevelResource(EscapingResource):
    sku = fields.Field(attribute="product__sku", column_name="sku")
    name = fields.Field(attribute="product__name", column_name="name")
    location = fields.Field(attribute="location__code", column_name="location")
    available = fields.Field(attribute="available", column_name="available")

    class Meta:
        model = StockLevel
        fields = (
            "sku",
            "name",
            "location",
            "on_hand",
            "allocated",
            "reserved",
            "safety_stock",
            "available",
            "updated_at",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        # `available` as the rule counts it, with no query per row.
        return queryset.select_related("product", "location").with_available()


class StockMovementResource(EscapingResource):
    sku = fields.Field(attribute="stock__product__sku", column_name="sku")
    location = fields.Field(attribute="stock__location__code", column_name="location")
    actor = fields.Field(attribute="actor__username", column_name="actor")

    class Meta:
        model = StockMovement
        fields = (
            "created_at",
            "sku",
            "location",
            "kind",
            "quantity",
            "on_hand_after",
            "reference",
            "reason",
            "counted_at",
            "operation",
            "actor",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("stock__product", "stock__location", "actor")


# --- Importing stock counts -----------------------------------------------------------------


class CountFileDataset(tablib.Dataset):
    """The uploaded bytes as they are: the count service decodes and numbers rows itself
    (a tablib dataset would lose the file's line numbers and its encoding)."""

    def __init__(self, data: bytes):
        super().__init__()
        self.raw = data

    def __bool__(self) -> bool:
        return bool(self.raw.strip())


class CountCSV(base_formats.Format):
    """A stock count CSV, read as bytes (any encoding a spreadsheet writes)."""

    def __init__(self, encoding=None):
        self.encoding = None  # decoded by the count service, which tries several

    def get_title(self):
        return "csv"

    def create_dataset(self, in_stream):
        if isinstance(in_stream, str):
            in_stream = in_stream.encode()
        return CountFileDataset(in_stream)

    def get_extension(self):
        return "csv"

    def get_content_type(self):
        return "text/csv"

    def get_read_mode(self):
        return "rb"

    def is_binary(self):
        return True

    def can_import(self):
        return True


class CountResult(Result):
    """A django-import-export result that carries the count's own preview or outcome."""

    def __init__(self):
        super().__init__()
        self.counted_at: datetime | None = None
        self.changes: list[CountChange] = []
        self.already_applied: StockCountImport | None = None
        self.count_import: StockCountImport | None = None
        self.rejected: list[dict] = []

    @property
    def moved(self) -> int:
        return sum(1 for change in self.changes if change.difference)

    @property
    def rejected_rows(self) -> int:
        """Rows rejected: a row may have several problems, each in `rejected`."""
        return len({error["row"] for error in self.rejected})


class StockCountResource(resources.Resource):
    """Columns of a count file; `import_data` hands the whole file to the count service."""

    sku = fields.Field(column_name="sku")
    location = fields.Field(column_name="location")
    quantity = fields.Field(column_name="quantity")
    counted_at = fields.Field(column_name="counted_at (optional)")

    @classmethod
    def get_display_name(cls) -> str:
        return "Stock counts"

    DIFF_HEADERS = [
        "SKU",
        "Location",
        "On hand before",
        "Counted",
        "Later movements",
        "New on hand",
        "Difference",
    ]

    def import_data(
        self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs
    ):
        """Preview (dry run) or apply the file; a rejection becomes invalid rows."""
        result = CountResult()
        result.diff_headers = list(self.DIFF_HEADERS)
        data = dataset.raw
        counted_at = kwargs.get("counted_at")
        try:
            if dry_run:
                preview: CountPreview = stock_count_file_preview(data=data, counted_at=counted_at)
                result.changes = preview.changes
                result.counted_at = preview.counted_at
                result.already_applied = preview.already_applied
                result.total_rows = preview.total_rows
            else:
                outcome = stock_count_file_apply(
                    data=data,
                    actor=kwargs.get("user"),
                    source=StockCountImport.Source.ADMIN,
                    file_name=kwargs.get("file_name") or "",
                    counted_at=counted_at,
                )
                result.changes = outcome.changes
                result.counted_at = outcome.counted_at
                result.count_import = outcome.count_import
                if outcome.already_applied:
                    result.already_applied = outcome.count_import
                result.total_rows = len(outcome.changes)
        except CountRejected as exc:
            result.rejected = exc.row_errors
            for error in exc.row_errors:
                result.append_invalid_row(
                    error["row"], {}, ValidationError({error["field"]: [error["message"]]})
                )
            return result
        for change in result.changes:
            row = RowResult()
            row.import_type = (
                RowResult.IMPORT_TYPE_UPDATE if change.difference else RowResult.IMPORT_TYPE_SKIP
            )
            row.diff = [
                change.sku,
                change.location,
                change.before,
                change.counted,
                f"{change.later:+d}" if change.later else "",
                change.after,
                f"{change.difference:+d}",
            ]
            result.append_row_result(row)
            result.increment_row_result_total(row)
        return result
