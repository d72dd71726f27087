"""File exchange with a 3PL that prefers files to the API: requests out, shipments in."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.exceptions import DomainError
from fulfilment.models import Fulfilment
from fulfilment.representation import fulfilment_representation_read, fulfilments_for_output
from fulfilment.shipment_file import parse_shipment_file
from inventory.countfile import RowError
from inventory.models import Location
from orders.services.fulfilments import fulfilment_ship_within

FS = Fulfilment.Status
EXPORT_COLUMNS = [
    "fulfilment",
    "order",
    "location",
    "sku",
    "quantity",
    "delivery_method",
    "name",
    "email",
    "phone",
    "line1",
    "line2",
    "city",
    "postcode",
    "country",
    "requested_at",
]
# A cell a spreadsheet would run as a formula is written as text (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ShipmentsRejected(DomainError):
    """A shipment file with bad rows: nothing was applied."""

    code = "shipments_rejected"

    def __init__(self, row_errors: list[dict]):
        self.row_errors = row_errors
        super().__init__(f"{len(row_errors)} row(s) rejected; nothing was applied.", field="rows")


@dataclass(frozen=True)
class Exported:
    csv: str
    fulfilments: int
    rows: int


@transaction.atomic(durable=True)
def fulfilments_export(*, location: Location, write=None) -> Exported:
    """Return the location's requests not yet sent as CSV (a row per SKU) and mark them sent.

    `write(text)` is called inside the transaction: if it fails, nothing is marked, so the
    requests go out in the next file. A request is in one file only.
    """
    ids = list(
        # Only the requests' rows: the orders they are read with stay free.
        Fulfilment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(location=location, status=FS.REQUESTED, exported_at__isnull=True)
        # A held order's requests are not sent yet: they go in a file after its release.
        .filter(order__held_for="")
        .order_by("id")
        .values_list("id", flat=True)
    )
    fulfilments = list(fulfilments_for_output().filter(id__in=ids).order_by("id"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    rows = 0
    for fulfilment in fulfilments:
        shown = fulfilment_representation_read(fulfilment)
        address, customer = shown["shipping_address"], shown["customer"]
        for line in shown["lines"]:
            rows += 1
            writer.writerow(
                _safe(value)
                for value in (
                    shown["id"],
                    shown["order"],
                    shown["location"],
                    line["sku"],
                    line["quantity"],
                    shown["delivery_method"],
                    customer["name"],
                    # The file keeps its columns: the API's fulfilment shows no e-mail.
                    fulfilment.order.customer_email,
                    customer["phone"],
                    address["line1"],
                    address["line2"],
                    address["city"],
                    address["postcode"],
                    address["country"],
                    shown["created_at"],
                )
            )
    text = out.getvalue()
    if write is not None:
        write(text)
    Fulfilment.objects.filter(id__in=ids).update(exported_at=timezone.now())
    return Exported(csv=text, fulfilments=len(fulfilments), rows=rows)


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@transaction.atomic(durable=True)
def shipments_import(
    *, data: bytes, location: Location | None = None, actor: AbstractBaseUser | None = None
) -> list[Fulfilment]:
    """Ship every fulfilment of a shipment file in one transaction, or raise ShipmentsRejected
    with every bad row. A row already shipped with the same carrier and tracking number
    changes nothing (the file sent twice). `location` limits the file to that location."""
    lines, errors = parse_shipment_file(data)
    found = {
        f.pk: f
        for f in Fulfilment.objects.select_related("order").filter(
            pk__in=[line.fulfilment_id for line in lines]
        )
    }
    for line in lines:
        fulfilment = found.get(line.fulfilment_id)
        problem = _problem(fulfilment, line, location)
        if problem:
            errors.append(RowError(line.row, "fulfilment", problem))
    if errors:
        raise ShipmentsRejected(sorted((e.as_dict() for e in errors), key=lambda e: e["row"]))
    # Orders are locked in id order, as every writer of several orders does.
    shipped = []
    for line in sorted(lines, key=lambda line: (found[line.fulfilment_id].order_id, line.row)):
        try:
            shipped.append(
                fulfilment_ship_within(
                    fulfilment_id=line.fulfilment_id,
                    carrier=line.carrier,
                    tracking_number=line.tracking_number,
                    actor=actor,
                )
            )
        except DomainError as error:  # changed since the check: nothing of the file stays
            raise ShipmentsRejected(
                [{"row": line.row, "field": error.field or "fulfilment", "message": error.message}]
            ) from None
    return shipped


def _problem(fulfilment: Fulfilment | None, line, location: Location | None) -> str:
    if fulfilment is None or (location is not None and fulfilment.location_id != location.pk):
        return f"no fulfilment {line.fulfilment_id}" + (f" at {location.code}" if location else "")
    if fulfilment.status == FS.SHIPPED:
        if (fulfilment.carrier, fulfilment.tracking_number) == (line.carrier, line.tracking_number):
            return ""
        return (
            f"fulfilment {fulfilment.pk} was already shipped with tracking number "
            f"{fulfilment.tracking_number}"
        )
    if fulfilment.status not in (FS.REQUESTED, FS.ACCEPTED):
        return f"fulfilment {fulfilment.pk} is {fulfilment.status}: it cannot be shipped"
    if fulfilment.order.delivery_method == "click_and_collect":
        return f"fulfilment {fulfilment.pk} is click & collect: it is collected, not shipped"
    return ""
