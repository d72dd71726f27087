"""The returns work queue of a location (expected, received, to refund) and receiving with a
scanner: type or scan the return number, then scan each unit's SKU."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.scoping import location_ids_for, scope_to_locations
from console.views.context import console_context
from core.exceptions import DomainError
from core.text import TextRefused, code_normalise
from inventory.models import Location, Product
from returns.inputs import ReceiveLineInput
from returns.models import Return, ReturnReceipt, ReturnReceiptLine
from returns.numbers import return_number_is_plausible
from returns.services import return_receive

SHOWN = 100
RS = Return.Status
TABS = {
    "expected": ("Expected", Q(status__in=[RS.REQUESTED, RS.PARTIALLY_RECEIVED])),
    "received": ("Received", Q(status=RS.RECEIVED)),
    "to-refund": (
        "To refund",
        Q(
            status__in=[RS.PARTIALLY_RECEIVED, RS.RECEIVED],
            resolution=Return.Resolution.REFUND,
            refund__isnull=True,
        ),
    ),
}


def _locations(request: HttpRequest):
    locations = Location.objects.filter(active=True).only("code", "name")
    if (own := location_ids_for(request.user)) is not None:
        locations = locations.filter(pk__in=own)
    return locations


@require_http_methods(["GET", "POST"])
@staff_member_required
def returns_queue(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("returns.view_return"):
        raise PermissionDenied
    if request.method == "POST":
        return _receive(request)
    tab = request.GET.get("tab", "expected")
    title, condition = TABS.get(tab, TABS["expected"])
    returns = scope_to_locations(
        Return.objects.filter(condition).select_related("order", "location"),
        request.user,
        "location",
    )
    location = request.GET.get("location", "")
    if location:
        returns = returns.filter(location__code=location)
    context = console_context(
        request,
        title="Returns",
        tabs=[(slug, label) for slug, (label, _) in TABS.items()],
        tab=tab if tab in TABS else "expected",
        tab_title=title,
        returns=list(returns.order_by("created_at", "id")[:SHOWN]),
        locations=_locations(request),
        location=location,
        dispositions=ReturnReceiptLine.Disposition.choices,
        can_receive=request.user.has_perm("returns.change_return"),
    )
    return render(request, "console/returns.html", context)


def _receive(request: HttpRequest) -> HttpResponse:
    """Receive what was scanned: each SKU line is one unit (a scanner sends one per scan)."""
    if not request.user.has_perm("returns.change_return"):
        raise PermissionDenied
    back = redirect(f"{request.path}?tab=expected")
    number = request.POST.get("number", "").strip().upper()
    location = _locations(request).filter(code=request.POST.get("location", "")).first()
    disposition = request.POST.get("disposition", ReturnReceiptLine.Disposition.RESTOCK)
    ret = None
    if return_number_is_plausible(number):
        ret = Return.objects.filter(number=number).first()
    if ret is None:
        messages.error(request, f"No return {number or '(empty)'}.")
        return back
    if location is None:
        messages.error(request, "Choose where the units are received.")
        return back
    scanned: Counter[str] = Counter()
    for raw in request.POST.get("skus", "").splitlines():
        if raw.strip():
            try:
                scanned[code_normalise(raw, what="A SKU")] += 1
            except TextRefused as refused:
                messages.error(request, str(refused))
                return back
    if not scanned:
        messages.error(request, "Scan at least one SKU.")
        return back
    products = {p.sku: p for p in Product.objects.filter(sku__in=scanned)}
    unknown = sorted(set(scanned) - set(products))
    if unknown:
        messages.error(request, f"Unknown SKU: {', '.join(unknown)}. Nothing was received.")
        return back
    try:
        answer = return_receive(
            ret=ret,
            location=location,
            lines=[
                ReceiveLineInput(products[sku], quantity, disposition)
                for sku, quantity in scanned.items()
            ],
            actor=request.user if request.user.is_authenticated else None,
            source=ReturnReceipt.Source.CONSOLE,
        )
    except DomainError as refused:
        messages.error(request, f"{number}: {refused.message} Nothing was received.")
        return back
    units = sum(scanned.values())
    messages.success(
        request,
        f"{number}: {units} unit(s) received at {location.code} "
        f"({Return.Status(answer['status']).label}).",
    )
    return back
