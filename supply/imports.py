"""Purchase orders (or advance shipping notices) from a CSV file: all or nothing.

Header `number,supplier,location,expected_on,sku,quantity`, one line of a purchase order
per row; the rows of one `number` are one purchase order and must agree on its supplier,
location and date. A number that already exists is left as it is (sent again, a file
changes nothing). Every bad row is reported with its row number and field, and then
nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.exceptions import DomainError
from core.text import TextRefused, code_normalise
from inventory.models import Location, Product
from inventory.services.supply import incoming_move_many
from supply.models import MAX_LINE_QUANTITY, NUMBER_MAX_LENGTH, PurchaseOrder, PurchaseOrderLine

COLUMNS = ("number", "supplier", "location", "expected_on", "sku", "quantity")
MAX_ROWS = 100_000
MAX_ERRORS = 1_000


class ImportRejected(DomainError):
    """A purchase-order file with bad rows: nothing was written."""

    code = "import_rejected"

    def __init__(self, row_errors: list[dict]):
        self.row_errors = row_errors
        super().__init__(f"{len(row_errors)} row(s) rejected; nothing was written.", field="rows")


@dataclass
class Imported:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    lines: int = 0


@dataclass
class _Order:
    row: int
    supplier: str
    location: str
    expected_on: date
    lines: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # the row of each SKU


def purchase_orders_import(*, text: str, actor: AbstractBaseUser | None = None) -> Imported:
    """Open every purchase order of a CSV file, or none (raise `ImportRejected`)."""
    orders, errors = _parse(text)
    skus = {sku for order in orders.values() for sku in order.lines}
    products = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
    codes = {order.location for order in orders.values()}
    locations = dict(Location.objects.filter(code__in=codes).values_list("code", "pk"))
    for order in orders.values():
        if order.location not in locations:
            errors.append(_error(order.row, "location", f"No location '{order.location}'."))
        for sku in order.lines:
            if sku not in products:
                errors.append(_error(order.rows[sku], "sku", f"No product with sku '{sku}'."))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e["row"])[:MAX_ERRORS])
    existing = set(
        PurchaseOrder.objects.filter(number__in=list(orders)).values_list("number", flat=True)
    )
    fresh = {number: order for number, order in orders.items() if number not in existing}
    _write(fresh, products=products, locations=locations, actor=actor)
    return Imported(
        created=list(fresh),
        existing=sorted(existing),
        lines=sum(len(order.lines) for order in fresh.values()),
    )


def _error(row: int, column: str, message: str) -> dict:
    return {"row": row, "field": column, "message": message}


def _parse(text: str) -> tuple[dict[str, _Order], list[dict]]:
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ImportRejected([_error(1, "header", f"Missing column(s): {', '.join(missing)}.")])
    at = {name: header.index(name) for name in COLUMNS}
    orders: dict[str, _Order] = {}
    errors: list[dict] = []
    for row_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if row_no > MAX_ROWS + 1:
            errors.append(_error(row_no, "rows", f"At most {MAX_ROWS:,} rows per file."))
            break
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in at.items()}
        try:
            number = _key(cells["number"], "A purchase-order number")
            location = _key(cells["location"], "A location code")
            sku = _key(cells["sku"], "A SKU")
        except _Bad as bad:
            errors.append(_error(row_no, bad.column, bad.message))
            continue
        supplier = cells["supplier"]
        if not supplier or len(supplier) > 255:
            errors.append(_error(row_no, "supplier", "A supplier name of 1 to 255 characters."))
            continue
        try:
            expected_on = date.fromisoformat(cells["expected_on"])
        except ValueError:
            errors.append(_error(row_no, "expected_on", "A date as YYYY-MM-DD."))
            continue
        quantity_text = cells["quantity"]
        if not quantity_text.isdigit() or not 1 <= int(quantity_text) <= MAX_LINE_QUANTITY:
            errors.append(
                _error(row_no, "quantity", f"A whole number from 1 to {MAX_LINE_QUANTITY:,}.")
            )
            continue
        order = orders.setdefault(number, _Order(row_no, supplier, location, expected_on))
        if (order.supplier, order.location, order.expected_on) != (supplier, location, expected_on):
            errors.append(
                _error(
                    row_no,
                    "number",
                    f"{number} has another supplier, location or date on row {order.row}.",
                )
            )
            continue
        if sku in order.lines:
            errors.append(_error(row_no, "sku", f"{sku} is on {number} twice."))
            continue
        order.lines[sku] = int(quantity_text)
        order.rows[sku] = row_no
    if not orders and not errors:
        errors.append(_error(2, "rows", "The file has no purchase-order lines."))
    return orders, errors


class _Bad(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


def _key(value: str, what: str) -> str:
    column = {"A purchase-order number": "number", "A location code": "location"}.get(what, "sku")
    try:
        key = code_normalise(value, what=what)
    except TextRefused as refused:
        raise _Bad(column, str(refused)) from None
    if not key or len(key) > (NUMBER_MAX_LENGTH if column == "number" else 64):
        raise _Bad(column, f"{what} is needed (at most {NUMBER_MAX_LENGTH} characters).")
    return key


@transaction.atomic(durable=True)
def _write(orders: dict[str, _Order], *, products, locations, actor) -> None:
    if not orders:
        return
    actor = actor if actor is not None and actor.is_authenticated else None
    created = PurchaseOrder.objects.bulk_create(
        [
            PurchaseOrder(
                number=number,
                supplier=order.supplier,
                location_id=locations[order.location],
                expected_on=order.expected_on,
                actor=actor,
            )
            for number, order in orders.items()
        ],
        batch_size=2_000,
    )
    incoming: dict[tuple[int, int], int] = defaultdict(int)
    lines = []
    for purchase_order, order in zip(created, orders.values(), strict=True):
        for sku, quantity in order.lines.items():
            product_id = products[sku]
            lines.append(
                PurchaseOrderLine(
                    purchase_order_id=purchase_order.pk, product_id=product_id, quantity=quantity
                )
            )
            incoming[(product_id, purchase_order.location_id)] += quantity
    PurchaseOrderLine.objects.bulk_create(lines, batch_size=5_000)
    incoming_move_many(units=incoming)
