"""Each connected storefront's health, and "push all stock now".

Staff who may view connectors see the page; the button needs the permission to change
them, and calls one service.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from connectors.health import connectors_health
from connectors.models import Connector
from connectors.services.outbound import stock_push_all

VIEW_PERMISSION = "connectors.view_connector"
CHANGE_PERMISSION = "connectors.change_connector"


@require_GET
@staff_member_required
def storefronts(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Storefronts",
        "healths": connectors_health(),
        "now": timezone.now(),
        "can_push": request.user.has_perm(CHANGE_PERMISSION),
    }
    return render(request, "connectors/console/health.html", context)


@require_POST
@staff_member_required
def push_stock(request: HttpRequest, channel: str) -> HttpResponse:
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    connector = get_object_or_404(
        Connector.objects.select_related("channel"), channel__code=channel
    )
    if not connector.active:
        messages.error(request, f"The storefront of {connector.channel.code} is switched off.")
    else:
        marked = stock_push_all(connector=connector)
        messages.info(
            request,
            f"{marked} SKUs will be sent to the storefront of {connector.channel.code} "
            "in the next minutes.",
        )
    return HttpResponseRedirect(reverse("connectors_console:health"))
