"""Staff pages for inventory: a product's stock everywhere, and stock count imports.

Staff only (the admin's login); each button is a POST form that calls one service.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.scoping import location_ids_for, scope_by_colleagues, scope_to_locations
from core.exceptions import DomainError
from core.text import code_lookup_form
from inventory.console.projection import projection_chart
from inventory.incoming import incoming_projection, incoming_promised_total
from inventory.models import Location, Product, StockCountImport
from inventory.selectors import recent_movements, stock_rows
from inventory.services.counts import (
    CANCELLABLE,
    count_import_progress,
    count_rows_unpack,
    stock_count_import_cancel,
    stock_count_import_confirm,
)

STOCK_PERMISSION = "inventory.change_stocklevel"
RECENT_MOVEMENTS = 50
PROJECTION_DAYS = 30
ROWS_PER_PAGE = 500
Status = StockCountImport.Status
# A task is (or will be) working on an import in these states: the page polls its progress.
WORKING = (Status.QUEUED, Status.CHECKING, Status.CONFIRMED, Status.APPLYING)


def _imports(request: HttpRequest):
    """The count imports this person may see: for staff tied to locations, their colleagues'."""
    return scope_by_colleagues(StockCountImport.objects.all(), request.user)


@require_GET
@staff_member_required
def product_stock(request: HttpRequest, sku: str) -> HttpResponse:
    """Show a product's balances at every location (in transit and incoming too), the next
    30 days of incoming supply less what is promised of it, and its recent ledger."""
    key = code_lookup_form(sku)
    if key is None:
        raise Http404("No such product.")
    product = get_object_or_404(Product, sku=key)
    # The API's read (`stock_rows`): `available` and `reserved_active` leave out reservations
    # that have expired, whether or not the sweep has released them yet.
    rows = {
        row.location_id: row
        for row in scope_to_locations(
            stock_rows().select_related(None).filter(product=product), request.user, "location"
        ).only(
            "id",
            "product_id",
            "location_id",
            "on_hand",
            "allocated",
            "reserved",
            "safety_stock",
            "quarantined",
            "in_transit",
            "incoming",
            "updated_at",
        )
    }
    # Every active location, stocked or not, and inactive ones that still hold a row.
    locations = Location.objects.filter(Q(active=True) | Q(pk__in=list(rows))).only(
        "code", "name", "kind", "active"
    )
    # Staff tied to locations see their own places only.
    if (own := location_ids_for(request.user)) is not None:
        locations = locations.filter(pk__in=own)
    places = [(location, rows.get(location.pk)) for location in locations]
    totals = {
        name: sum(getattr(row, name) for row in rows.values())
        for name in (
            "on_hand",
            "allocated",
            "reserved_active",
            "safety_stock",
            "available",
            "quarantined",
            "in_transit",
            "incoming",
        )
    }
    # Staff tied to locations see their own places' supply only.
    projection = projection_chart(
        incoming_projection(
            product_id=product.pk,
            location_ids=location_ids_for(request.user),
            start=timezone.localdate(),
            days=PROJECTION_DAYS,
        )
    )
    movements = (
        recent_movements([row.pk for row in rows.values()], RECENT_MOVEMENTS) if rows else []
    )
    preorder = None
    if product.preorder:
        # Network-wide figures: the cap bounds what every location's supply promises.
        promised = incoming_promised_total(product_ids=[product.pk]).get(product.pk, 0)
        preorder = {
            "cap": product.preorder_cap,
            "promised": promised,
            "left": max(0, product.preorder_cap - promised),
        }
    context = {
        **admin.site.each_context(request),
        "title": f"Stock of {product.sku}",
        "preorder": preorder,
        "product": product,
        "places": places,
        "totals": totals,
        "movements": movements,
        "recent": RECENT_MOVEMENTS,
        "projection": projection,
        "projection_days": PROJECTION_DAYS,
    }
    return render(request, "inventory/console/product_stock.html", context)


@require_GET
@staff_member_required
def count_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an import: its progress while a task works on it, then its preview or result."""
    record = get_object_or_404(_imports(request).defer("data"), pk=pk)
    rows: list = []
    kind = ""
    if record.status == Status.PREVIEWED:
        rows, kind = count_rows_unpack(record.preview), "preview"
    elif record.status == Status.APPLIED:
        rows, kind = count_rows_unpack(record.changes), "changes"
    elif record.status == Status.REJECTED:
        rows, kind = record.errors, "errors"
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    moved = sum(1 for row in rows if row.difference) if kind != "errors" else 0
    context = {
        **admin.site.each_context(request),
        "title": f"Stock count import #{record.pk}",
        "record": record,
        "progress": count_import_progress(record),
        "kind": kind,
        "page": page,
        "items": page.object_list,
        "moved": moved,
        "can_confirm": record.status == Status.PREVIEWED
        and request.user.has_perm(STOCK_PERMISSION),
        "working": record.status in WORKING,
        # Until the counts are committed, whatever step it is at.
        "can_cancel": record.status in CANCELLABLE and request.user.has_perm(STOCK_PERMISSION),
    }
    return render(request, "inventory/console/count_import.html", context)


@require_GET
@staff_member_required
def count_import_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Answer the status page's poll: small, and without loading the file or its rows."""
    record = get_object_or_404(
        _imports(request).only(
            "status", "phase", "progress", "total_rows", "applied_rows", "operation"
        ),
        pk=pk,
    )
    return JsonResponse(count_import_progress(record))


@require_POST
@staff_member_required
def count_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(STOCK_PERMISSION):
        raise PermissionDenied
    record = get_object_or_404(_imports(request).defer("data", "preview"), pk=pk)
    try:
        stock_count_import_confirm(count_import=record, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, "Confirmed: the counts are being applied in the background.")
    return redirect("console:count-import", pk=pk)


@require_POST
@staff_member_required
def count_import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(STOCK_PERMISSION):
        raise PermissionDenied
    record = get_object_or_404(_imports(request).defer("data", "preview"), pk=pk)
    try:
        record = stock_count_import_cancel(count_import=record)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, f"{record.phase}.")
    return redirect("console:count-import", pk=pk)
