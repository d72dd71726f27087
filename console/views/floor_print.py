"""Printed paper for the floor: a pick list batched over many orders, walked in bin order,
and a packing slip per parcel. Plain pages with print styles; the browser prints them."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from console.selectors.floor import pick_list, requests_at
from console.views.floor import floor_location
from fulfilment.models import Fulfilment

MAX_BATCH = 200


def _ids(request: HttpRequest) -> list[int] | None:
    """Return the ticked requests, or None for every one waiting to be picked."""
    values = [v for raw in request.GET.getlist("ids") for v in raw.split(",")]
    ids = sorted({int(v) for v in values if v.strip().isdigit()})
    return ids or None


@require_GET
@staff_member_required
def pick_list_page(request: HttpRequest) -> HttpResponse:
    """Show one pick list for the ticked accepted requests (or all of them), sorted by bin."""
    location, _ = floor_location(request)
    requests = requests_at(
        location=location, status=Fulfilment.Status.ACCEPTED, ids=_ids(request), limit=MAX_BATCH
    )
    lines = pick_list(requests)
    context = {
        "location": location,
        "requests": requests,
        "lines": lines,
        "units": sum(line.quantity for line in lines),
        "printed_at": timezone.localtime(),
    }
    return render(request, "console/floor/pick_list.html", context)


@require_GET
@staff_member_required
def packing_slips_page(request: HttpRequest) -> HttpResponse:
    """Show a packing slip per ticked request: what the parcel holds and where it goes."""
    location, _ = floor_location(request)
    requests = []
    for status in (Fulfilment.Status.ACCEPTED, Fulfilment.Status.READY_FOR_PICKUP):
        requests += requests_at(
            location=location, status=status, ids=_ids(request), limit=MAX_BATCH
        )
    context = {"location": location, "requests": requests, "printed_at": timezone.localtime()}
    return render(request, "console/floor/packing_slips.html", context)
