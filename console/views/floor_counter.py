"""The pickup counter: the customer's code, typed or scanned, finds the parcel; it is handed
over only once the code matches, to the customer or to someone collecting for them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console.selectors.floor import orders_at_counter, requests_at
from console.views.context import console_context
from console.views.floor import WORK_PERMISSION, floor_location, floor_url, person
from core.exceptions import DomainError
from fulfilment.models import Fulfilment
from orders.models import Order
from orders.services.fulfilments import fulfilment_collect


@require_http_methods(["GET", "POST"])
@staff_member_required
def counter(request: HttpRequest) -> HttpResponse:
    """Find a parcel by its pickup code (or open one by order number) and hand it over."""
    location, _ = floor_location(request)
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("code", "").strip()[:32]
    number = source.get("order", "").strip().upper()[:16]
    error = ""
    found: list[Order] = []
    if number:
        found = list(
            Order.objects.filter(
                number=number,
                status=Order.Status.READY_FOR_PICKUP,
                pickup_location=location,
            )
        )
        if not found:
            error = f"Order {number} is not waiting at {location.name}."
    elif code:
        found = orders_at_counter(code=code, location_ids=[location.pk])
        if not found:
            error = "No parcel waits here with this code. Check it with the customer."
    if request.method == "POST" and len(found) == 1:
        return _hand_over(request, location, found[0], code)
    order = found[0] if len(found) == 1 else None
    parcels = []
    if order is not None:
        parcels = requests_at(
            location=location,
            status=Fulfilment.Status.READY_FOR_PICKUP,
            ids=order.fulfilments.values_list("pk", flat=True),
        )
    context = console_context(
        request,
        title=f"Pickup counter · {location.name}",
        location=location,
        code=code,
        number=number,
        error=error,
        order=order,
        choices=found if len(found) > 1 else [],
        parcels=parcels,
        collected_by=source.get("collected_by", ""),
        can_work=request.user.has_perm(WORK_PERMISSION),
    )
    return render(request, "console/floor/counter.html", context, status=404 if error else 200)


def _hand_over(request: HttpRequest, location, order: Order, code: str) -> HttpResponse:
    if not request.user.has_perm(WORK_PERMISSION):
        raise PermissionDenied
    someone_else = request.POST.get("someone_else") == "1"
    collected_by = request.POST.get("collected_by", "").strip()[:255] if someone_else else ""
    problem = ""
    if someone_else and not collected_by:
        problem = "Name the person collecting for the customer."
    ids = list(
        order.fulfilments.filter(
            location=location, status=Fulfilment.Status.READY_FOR_PICKUP
        ).values_list("pk", flat=True)
    )
    if not problem:
        try:
            for pk in ids:
                fulfilment_collect(
                    fulfilment_id=pk,
                    actor=person(request),
                    pickup_code=code,
                    collected_by=collected_by,
                )
        except DomainError as error:
            problem = error.message
    if problem:
        messages.error(request, problem)
        query = f"&order={order.number}"
        if collected_by:
            query += "&someone_else=1"
        return redirect(floor_url(location, "oms_console:floor-counter") + query)
    who = f" to {collected_by}, for the customer" if collected_by else ""
    messages.success(request, f"Order {order.number} handed over{who}.")
    return redirect(floor_url(location, "oms_console:floor-counter"))
