"""Storefront orders to fix: what a storefront sent that could not become an order, with
the reason, the payload as it came, and a button to run it again once its cause is fixed
(a SKU created, a price for the currency set).

Customer service's work (`connectors.view_storefrontorder` to see, `change` to replay).
Staff tied to locations never see it: these belong to no location yet.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.scoping import location_ids_for
from connectors.models import StorefrontOrder
from connectors.services.inbound import storefront_order_replay
from core.exceptions import DomainError

VIEW_PERMISSION = "connectors.view_storefrontorder"
CHANGE_PERMISSION = "connectors.change_storefrontorder"
PER_PAGE = 100
# The payload shown on the page: enough to see what the storefront sent.
SHOWN_BYTES = 64 * 1024


def _allowed(request: HttpRequest, permission: str) -> None:
    user = request.user
    if not user.has_perm(permission) or location_ids_for(user) is not None:
        raise PermissionDenied


def _queue():
    return StorefrontOrder.objects.filter(status=StorefrontOrder.Status.TO_FIX).select_related(
        "connector__channel"
    )


@require_GET
@staff_member_required
def to_fix_list(request: HttpRequest) -> HttpResponse:
    """List the storefront orders waiting to be fixed, oldest first, by channel."""
    _allowed(request, VIEW_PERMISSION)
    rows = _queue()
    channel = request.GET.get("channel", "")
    if channel:
        rows = rows.filter(connector__channel__code=channel)
    page = Paginator(rows.order_by("received_at", "id"), PER_PAGE).get_page(request.GET.get("page"))
    channels = _queue().order_by().values_list("connector__channel__code", flat=True).distinct()
    context = {
        **admin.site.each_context(request),
        "title": "Storefront orders to fix",
        "page": page,
        "rows": page.object_list,
        "channels": sorted(channels),
        "channel": channel,
        "can_replay": request.user.has_perm(CHANGE_PERMISSION),
    }
    return render(request, "connectors/console/to_fix.html", context)


@require_GET
@staff_member_required
def to_fix_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One storefront order: its reason, its history and the payload as it came."""
    _allowed(request, VIEW_PERMISSION)
    row = get_object_or_404(
        StorefrontOrder.objects.select_related("connector__channel", "order"), pk=pk
    )
    body = bytes(row.body)
    try:
        shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        shown = body[:SHOWN_BYTES].decode("utf-8", "replace")
    others = (
        StorefrontOrder.objects.filter(
            connector=row.connector, remote_order_id=row.remote_order_id
        ).exclude(pk=row.pk)
        if row.remote_order_id
        else StorefrontOrder.objects.none()
    )
    context = {
        **admin.site.each_context(request),
        "title": f"Storefront order {row.remote_order_id or row.pk}",
        "row": row,
        "payload": shown[:SHOWN_BYTES],
        "cut": len(shown) > SHOWN_BYTES,
        "others": others.order_by("received_at", "id")[:50],
        "can_replay": request.user.has_perm(CHANGE_PERMISSION),
    }
    return render(request, "connectors/console/to_fix_detail.html", context)


@require_POST
@staff_member_required
def to_fix_replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a storefront order again; say what became of it."""
    _allowed(request, CHANGE_PERMISSION)
    row = StorefrontOrder.objects.filter(pk=pk).first()
    if row is None:
        raise Http404("No such storefront order.")
    try:
        actor = request.user if isinstance(request.user, AbstractBaseUser) else None
        row = storefront_order_replay(storefront_order=row, actor=actor)
    except DomainError as refused:
        messages.error(request, refused.message)
        return HttpResponseRedirect(reverse("connectors_console:to-fix-detail", args=[pk]))
    if row.status == StorefrontOrder.Status.TO_FIX:
        messages.error(request, f"Still cannot be an order: {row.reason}")
        return HttpResponseRedirect(reverse("connectors_console:to-fix-detail", args=[pk]))
    messages.success(request, row.reason)
    return HttpResponseRedirect(reverse("connectors_console:to-fix"))
