"""The shop floor: what a store or warehouse has to do now, line by line, with one button
per step. Each button is a POST that calls one service and comes back to the page."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.selectors.floor import STEPS, Request, floor_locations, requests_at
from console.views.context import console_context
from core.exceptions import DomainError
from fulfilment.models import Fulfilment, RejectReason
from inventory.models import Location
from orders.console.forms import REJECT_REASON_CHOICES
from orders.models import Order
from orders.services.fulfilments import (
    fulfilment_accept,
    fulfilment_ready,
    fulfilment_reject_lines,
    fulfilment_ship,
)

VIEW_PERMISSION = "fulfilment.view_fulfilment"
WORK_PERMISSION = "fulfilment.change_fulfilment"


def person(request: HttpRequest) -> AbstractBaseUser:
    """Return the logged-in person (the views are for staff only: never anonymous)."""
    return cast(AbstractBaseUser, request.user)


def floor_location(request: HttpRequest) -> tuple[Location, list[Location]]:
    """Return the location whose floor is shown (`?at=CODE`, else the person's first) and
    every one the person may choose."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    places = list(floor_locations(person(request)).only("id", "code", "name", "kind", "lat", "lon"))
    if not places:
        raise Http404("No location to work at.")
    code = (request.GET.get("at") or request.POST.get("at") or "").strip().upper()
    chosen = next((place for place in places if place.code.upper() == code), None)
    return chosen or places[0], places


def floor_url(location: Location, name: str = "oms_console:floor", *args) -> str:
    return f"{reverse(name, args=args)}?{urlencode({'at': location.code})}"


@require_GET
@staff_member_required
def floor(request: HttpRequest) -> HttpResponse:
    """Show the location's requests to accept, to pick and ready for pickup, with lines."""
    location, places = floor_location(request)
    steps = [
        {"slug": slug, "title": title, "requests": requests_at(location=location, status=status)}
        for slug, title, status in STEPS
    ]
    context = console_context(
        request,
        title=f"Floor · {location.name}",
        location=location,
        places=places,
        steps=steps,
        can_work=request.user.has_perm(WORK_PERMISSION),
        is_store=location.kind == Location.Kind.STORE,
        # Each line links to its product's nearby stock: the path reversed once, not per line.
        stock_url=reverse("oms_console:floor-stock", args=["-"])[:-2],
    )
    return render(request, "console/floor/floor.html", context)


def _fulfilment_at(request: HttpRequest, pk: int) -> Fulfilment:
    """Return the fulfilment if the person may work on it (its location is theirs)."""
    if not request.user.has_perm(WORK_PERMISSION):
        raise PermissionDenied
    fulfilment = (
        Fulfilment.objects.select_related("order", "location")
        .filter(pk=pk, location__in=floor_locations(person(request)))
        .first()
    )
    if fulfilment is None:
        raise Http404("No such request at your locations.")
    return fulfilment


@require_POST
@staff_member_required
def floor_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Accept, mark ready, or ship one request."""
    fulfilment = _fulfilment_at(request, pk)
    number = fulfilment.order.number
    try:
        if action == "accept":
            fulfilment_accept(fulfilment_id=pk, actor=person(request))
            messages.success(request, f"Order {number} accepted: pick it.")
        elif action == "ready":
            fulfilment_ready(fulfilment_id=pk, actor=person(request))
            messages.success(request, f"Order {number} is ready; the customer is told.")
        elif action == "ship":
            carrier = request.POST.get("carrier", "").strip()[:64]
            tracking = request.POST.get("tracking_number", "").strip()[:128]
            if not carrier or not tracking:
                raise DomainError(
                    f"Order {number}: give its carrier and tracking number.",
                    field="tracking_number",
                )
            fulfilment_ship(
                fulfilment_id=pk, carrier=carrier, tracking_number=tracking, actor=person(request)
            )
            messages.success(request, f"Order {number} shipped.")
        else:
            raise Http404("No such action.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(floor_url(fulfilment.location))


@require_http_methods(["GET", "POST"])
@staff_member_required
def floor_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Refuse some units of a request, line by line, with the reason; the rest stays."""
    fulfilment = _fulfilment_at(request, pk)
    if fulfilment.status not in (Fulfilment.Status.REQUESTED, Fulfilment.Status.ACCEPTED):
        messages.error(request, f"Order {fulfilment.order.number} can no longer be refused here.")
        return redirect(floor_url(fulfilment.location))
    (item,) = requests_at(location=fulfilment.location, status=fulfilment.status, ids=[pk])
    errors: dict[str, str] = {}
    values = {"reason": "", "reason_code": RejectReason.DAMAGED}
    if request.method == "POST":
        values = {
            "reason": request.POST.get("reason", "").strip()[:255],
            "reason_code": request.POST.get("reason_code", ""),
        }
        units, errors = _units_refused(request, item)
        if not errors:
            try:
                fulfilment_reject_lines(
                    fulfilment_id=pk,
                    units_by_line=units,
                    reason=values["reason"],
                    reason_code=values["reason_code"],
                    actor=person(request),
                )
            except DomainError as error:
                errors[error.field or "general"] = error.message
            else:
                refused = sum(units.values())
                messages.success(
                    request,
                    f"Order {item.order.number}: {refused} unit(s) refused and sourced elsewhere.",
                )
                return redirect(floor_url(fulfilment.location))
    context = console_context(
        request,
        title=f"Refuse units of order {item.order.number}",
        item=item,
        location=fulfilment.location,
        errors=errors,
        values=values,
        posted=request.POST if request.method == "POST" else {},
        reasons=REJECT_REASON_CHOICES,
    )
    status = 400 if errors else 200
    return render(request, "console/floor/reject.html", context, status=status)


def _units_refused(request: HttpRequest, item: Request) -> tuple[dict[int, int], dict[str, str]]:
    units: dict[int, int] = {}
    errors: dict[str, str] = {}
    for line in item.lines:
        name = f"refuse-{line.order_line}"
        raw = request.POST.get(name, "").strip() or "0"
        if not raw.isdigit() or int(raw) > line.quantity:
            errors[name] = f"{line.sku}: a number of units from 0 to {line.quantity}."
            continue
        if int(raw):
            units[line.order_line] = int(raw)
    if not errors and not units:
        errors["lines"] = "Say how many units of which line you refuse."
    return units, errors


def is_pickup(order: Order) -> bool:
    return order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT
