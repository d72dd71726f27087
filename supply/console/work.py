"""A location's supply work in the console: transfers to ship, transfers in transit towards
it, purchase orders expected this week (or late); and receiving either with a scanner.

Receiving is made for a scanner that types the code and Enter: each scan (SKU or barcode,
and a quantity that stays 1 unless changed) adds to the tally the page carries in a hidden
field, nothing is written; **Receive** hands the tally to the transfer's or the purchase
order's service in one go. Staff tied to locations work their own only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import acting_person
from accounts.scoping import location_ids_for
from core.exceptions import DomainError
from core.text import code_lookup_form
from inventory.models import Location, Product
from supply.models import MAX_LINE_QUANTITY, PurchaseOrder, Transfer
from supply.services.purchase_orders import purchase_order_receive
from supply.services.transfers import transfer_cancel, transfer_receive, transfer_ship

SHOWN = 100
WEEK = 7
TS = Transfer.Status
TABS = {
    "to-ship": "To ship",
    "in-transit": "In transit",
    "expected": "Expected this week",
    # Transfers bringing click & collect orders' units here, requested or on their way.
    "for-pickups": "For pickups",
}


def _own(request: HttpRequest) -> frozenset[int] | None:
    return location_ids_for(request.user)


def _locations(request: HttpRequest) -> QuerySet[Location]:
    locations = Location.objects.filter(active=True).only("code", "name")
    if (own := _own(request)) is not None:
        locations = locations.filter(pk__in=own)
    return locations


def _may_work_at(request: HttpRequest, location_id: int) -> bool:
    own = _own(request)
    return own is None or location_id in own


@require_http_methods(["GET"])
@staff_member_required
def supply_queues(request: HttpRequest) -> HttpResponse:
    """The three queues of one location, with their counts."""
    if not request.user.has_perm("supply.view_transfer"):
        raise PermissionDenied
    locations = list(_locations(request))
    wanted = code_lookup_form(request.GET.get("location", "")) or ""
    location = next((place for place in locations if place.code == wanted), None)
    if location is None and locations:
        location = locations[0]
    tab = request.GET.get("tab", "to-ship")
    tab = tab if tab in TABS else "to-ship"
    week_end = timezone.localdate() + timedelta(days=WEEK)
    queues: dict[str, QuerySet] = {}
    if location is not None:
        transfers = Transfer.objects.select_related("source", "destination").prefetch_related(
            "lines__product"
        )
        queues = {
            "to-ship": transfers.filter(source=location, status=TS.REQUESTED).order_by(
                "created_at", "id"
            ),
            "in-transit": transfers.filter(destination=location, status=TS.SHIPPED).order_by(
                "shipped_at", "id"
            ),
            "for-pickups": transfers.filter(
                destination=location,
                order__isnull=False,
                status__in=[TS.REQUESTED, TS.SHIPPED],
            ).order_by("created_at", "id"),
            "expected": PurchaseOrder.objects.filter(
                location=location,
                status__in=PurchaseOrder.OPEN_STATUSES,
                expected_on__lte=week_end,
            )
            .prefetch_related("lines__product")
            .order_by("expected_on", "id"),
        }
    context = {
        **admin.site.each_context(request),
        "title": "Transfers and purchase orders",
        "locations": locations,
        "location": location,
        "tabs": [
            (slug, label, queues[slug].count() if queues else 0) for slug, label in TABS.items()
        ],
        "tab": tab,
        "rows": list(queues[tab][:SHOWN]) if queues else [],
        "today": timezone.localdate(),
        "can_act": request.user.has_perm("supply.change_transfer"),
        "can_receive_po": request.user.has_perm("supply.change_purchaseorder"),
    }
    return render(request, "supply/console/queues.html", context)


def _back_to(location: Location, tab: str) -> HttpResponse:
    url = reverse("supply_console:queues") + f"?location={location.code}&tab={tab}"
    return redirect(url)


@require_POST
@staff_member_required
def transfer_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Ship or cancel a requested transfer: at the location it leaves from."""
    if action not in ("ship", "cancel"):
        raise Http404("No such action.")
    if not request.user.has_perm("supply.change_transfer"):
        raise PermissionDenied
    transfer = get_object_or_404(Transfer.objects.select_related("source"), number=number)
    if not _may_work_at(request, transfer.source_id):
        raise Http404("No such transfer.")
    actor = acting_person(request.user)
    try:
        if action == "ship":
            transfer_ship(transfer_id=transfer.pk, actor=actor)
            messages.info(request, f"Transfer {number} shipped.")
        else:
            transfer_cancel(transfer_id=transfer.pk, actor=actor)
            messages.info(request, f"Transfer {number} cancelled: its units are free again.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back_to(transfer.source, "to-ship")


@dataclass
class Expected:
    product: Product
    expected: int
    counted: int = 0


def _tally_read(value: str, expected: dict[int, Expected]) -> dict[int, int] | None:
    """Read the hidden tally ("product id:units;..."); None when it is not one we wrote."""
    tally: dict[int, int] = {}
    for pair in filter(None, value.split(";")):
        product_id, _, units = pair.partition(":")
        if not (product_id.isdigit() and units.isdigit() and len(units) <= 7):
            return None
        if int(product_id) not in expected or int(units) < 1:
            return None
        tally[int(product_id)] = int(units)
    return tally


def _tally_write(tally: dict[int, int]) -> str:
    return ";".join(f"{product_id}:{units}" for product_id, units in tally.items())


def _scanned(code: str, expected: dict[int, Expected]) -> Expected | None:
    """The document's line for a scanned SKU or barcode."""
    key = code_lookup_form(code)
    barcode = code.strip()
    for line in expected.values():
        if line.product.sku == key or (barcode and line.product.barcode == barcode):
            return line
    return None


def _receive(
    request: HttpRequest,
    *,
    document: str,
    expected: dict[int, Expected],
    over_allowed: bool,
    receive,
    done,
) -> HttpResponse:
    """Run the scan-and-tally form of a transfer or a purchase order."""
    status = 200
    error = ""
    tally: dict[int, int] = {}
    if request.method == "POST":
        read = _tally_read(request.POST.get("tally", ""), expected)
        if read is None:
            error, status = "The tally was not one this page wrote: start again.", 400
        elif request.POST.get("action") == "receive":
            if not read:
                error, status = "Scan at least one unit before receiving.", 400
            else:
                try:
                    result = receive({expected[p].product: n for p, n in read.items()})
                except DomainError as exc:
                    error, status, tally = exc.message, 400, read
                else:
                    return done(result)
        else:
            tally = read
            code = request.POST.get("code", "")
            quantity = request.POST.get("quantity", "1").strip() or "1"
            line = _scanned(code, expected)
            if line is None:
                said = code.strip()[:64] or "nothing scanned"
                error = f"SKU or barcode: {said} is not on {document}."
                status = 400
            elif not (quantity.isdigit() and 1 <= int(quantity) <= MAX_LINE_QUANTITY):
                error, status = f"Quantity: a whole number from 1 to {MAX_LINE_QUANTITY:,}.", 400
            elif not over_allowed and tally.get(line.product.pk, 0) + int(quantity) > line.expected:
                error = (
                    f"Quantity: {line.product.sku} has {line.expected} expected, "
                    f"{tally.get(line.product.pk, 0)} scanned already."
                )
                status = 400
            else:
                tally[line.product.pk] = tally.get(line.product.pk, 0) + int(quantity)
    for product_id, line in expected.items():
        line.counted = tally.get(product_id, 0)
    context = {
        **admin.site.each_context(request),
        "title": f"Receive {document}",
        "document": document,
        "lines": list(expected.values()),
        "tally": _tally_write(tally),
        "scanned": sum(tally.values()),
        "error": error,
        "over_allowed": over_allowed,
    }
    return render(request, "supply/console/receive.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_member_required
def transfer_receive_page(request: HttpRequest, number: str) -> HttpResponse:
    if not request.user.has_perm("supply.change_transfer"):
        raise PermissionDenied
    transfer = get_object_or_404(
        Transfer.objects.select_related("destination"), number=number, status=TS.SHIPPED
    )
    if not _may_work_at(request, transfer.destination_id):
        raise Http404("No such transfer.")
    expected = {
        line.product_id: Expected(line.product, line.quantity - line.received)
        for line in transfer.lines.select_related("product").order_by("id")
    }

    def receive(received):
        return transfer_receive(
            transfer_id=transfer.pk, received=received, actor=acting_person(request.user)
        )

    def done(closed: Transfer) -> HttpResponse:
        lines = list(closed.lines.all())
        missing = sum(line.missing for line in lines)
        said = f"Transfer {number} received: {sum(line.received for line in lines)} units"
        if missing:
            said += f"; {missing} missing, recorded as a discrepancy with an alert"
        messages.info(request, said + ".")
        return _back_to(transfer.destination, "in-transit")

    return _receive(
        request,
        document=f"transfer {number}",
        expected=expected,
        over_allowed=False,
        receive=receive,
        done=done,
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def purchase_order_receive_page(request: HttpRequest, number: str) -> HttpResponse:
    if not request.user.has_perm("supply.change_purchaseorder"):
        raise PermissionDenied
    key = code_lookup_form(number)
    purchase_order = get_object_or_404(
        PurchaseOrder.objects.select_related("location").filter(
            Q(status__in=PurchaseOrder.OPEN_STATUSES)
        ),
        number=key,
    )
    if not _may_work_at(request, purchase_order.location_id):
        raise Http404("No such purchase order.")
    expected = {
        line.product_id: Expected(line.product, line.outstanding)
        for line in purchase_order.lines.select_related("product").order_by("id")
    }

    def receive(received):
        return purchase_order_receive(
            purchase_order_id=purchase_order.pk,
            received=received,
            actor=acting_person(request.user),
        )

    def done(received: PurchaseOrder) -> HttpResponse:
        over = [line for line in received.lines.all() if line.over_received]
        said = f"Purchase order {received.number}: {received.get_status_display().lower()}"
        if over:
            said += "; more than ordered of " + ", ".join(
                f"{line.product.sku} (+{line.over_received})" for line in over
            )
        messages.info(request, said + ".")
        return _back_to(purchase_order.location, "expected")

    return _receive(
        request,
        document=f"purchase order {purchase_order.number}",
        expected=expected,
        over_allowed=True,
        receive=receive,
        done=done,
    )
