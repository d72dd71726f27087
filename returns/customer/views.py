"""The customer's "Return items": choose lines, quantities and reasons, mail or a store;
the answer is a printable return slip, and the return's status afterwards.

Reached from the tracking page's signed link only (no login, nothing to guess: the link is
signed, the return number unguessable and checked against the link's order), with the
tracking page's rate limit on anything that does not match, and its privacy: no internal
note, no cost, no location but the store chosen.
"""

from __future__ import annotations

import io

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.exceptions import DomainError
from inventory.models import Location
from orders.delivery.promise import distance_km
from orders.models import Order, OrderLine
from orders.tracking.limits import client_address, lookup_blocked, lookup_failed, rate_limit
from orders.tracking.links import tracking_token_number
from returns.inputs import ReturnInput, ReturnLineInput
from returns.models import Return, ReturnLine
from returns.numbers import return_number_is_plausible
from returns.representation import refund_of
from returns.services import return_create

STORES_SHOWN = 5
STATUS_TEXT: dict[str, str] = {
    Return.Status.REQUESTED: "We are waiting for your items.",
    Return.Status.PARTIALLY_RECEIVED: "We have received part of your items.",
    Return.Status.RECEIVED: "We have received your items.",
    Return.Status.REFUNDED: "Your refund has been made.",
    Return.Status.CANCELLED: "This return has been cancelled.",
}


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _order(request: HttpRequest, token: str) -> Order | None:
    """The order the signed link names; a link that is not ours counts as a failed lookup."""
    number = tracking_token_number(token)
    order = (
        Order.objects.select_related("channel", "pickup_location").filter(number=number).first()
        if number
        else None
    )
    if order is None:
        lookup_failed(address=client_address(request), number="")
    return order


def _refused(request: HttpRequest) -> HttpResponse | None:
    if lookup_blocked(address=client_address(request), number=""):
        window = rate_limit().window_seconds
        response = _page(
            request, "tracking/limited.html", {"minutes": max(1, window // 60)}, status=429
        )
        response["Retry-After"] = str(window)
        return response
    return None


def _not_found(request: HttpRequest) -> HttpResponse:
    return _page(request, "tracking/lookup.html", {"not_found": True}, status=404)


def _returnable(order: Order) -> list[dict]:
    return [
        {
            "id": line.pk,
            "sku": line.product.sku,
            "name": line.product.name,
            "left": line.quantity_shipped - line.quantity_returned,
        }
        for line in OrderLine.objects.filter(order=order).select_related("product")
        if line.quantity_shipped > line.quantity_returned
    ]


def _stores(order: Order) -> list[Location]:
    stores = list(Location.objects.filter(kind=Location.Kind.STORE, active=True))
    if order.ship_lat is not None and order.ship_lon is not None:
        lat, lon = order.ship_lat, order.ship_lon
        stores.sort(key=lambda s: (distance_km(lat, lon, s.lat, s.lon), s.code))
    else:
        stores.sort(key=lambda s: s.code)
    if order.pickup_location_id:
        stores.sort(key=lambda s: s.pk != order.pickup_location_id)
    return stores[:STORES_SHOWN]


@never_cache
@require_http_methods(["GET", "POST"])
def return_start(request: HttpRequest, token: str) -> HttpResponse:
    """The form: units received and not yet returned, a reason each, mail or a store."""
    if (refused := _refused(request)) is not None:
        return refused
    order = _order(request, token)
    if order is None:
        return _not_found(request)
    lines, stores = _returnable(order), _stores(order)
    context = {
        "order": order,
        "token": token,
        "lines": lines,
        "stores": stores,
        "reasons": ReturnLine.Reason.choices,
        "error": "",
        "chosen": {},
    }
    if request.method == "POST":
        data, error = _parse(request, order, lines, stores)
        if data is not None:
            try:
                ret = return_create(data=data)
            except DomainError as refused_return:
                error = refused_return.message
            else:
                return redirect("customer_returns:slip", token=token, number=ret.number)
        context["error"] = error
        context["chosen"] = request.POST
        return _page(request, "returns/customer/start.html", context, status=400)
    return _page(request, "returns/customer/start.html", context)


def _parse(request, order: Order, lines: list[dict], stores: list[Location]):
    """Return (the return asked for, None), or (None, what is wrong) for a person."""
    by_id = {line["id"]: line for line in lines}
    wanted = []
    products = {
        line.pk: line.product for line in OrderLine.objects.filter(order=order, pk__in=by_id)
    }
    for line_id, line in by_id.items():
        raw = request.POST.get(f"quantity-{line_id}", "0").strip() or "0"
        if not raw.isdigit() or int(raw) > line["left"]:
            return None, f"{line['name']}: choose from 0 to {line['left']}."
        quantity = int(raw)
        if not quantity:
            continue
        reason = request.POST.get(f"reason-{line_id}", "")
        if reason not in ReturnLine.Reason.values:
            return None, f"{line['name']}: tell us why you return it."
        wanted.append(ReturnLineInput(products[line_id], quantity, reason))
    if not wanted:
        return None, "Choose at least one item to return."
    method = request.POST.get("method", Return.Method.MAIL)
    location = None
    if method == Return.Method.STORE:
        code = request.POST.get("store", "")
        location = next((store for store in stores if store.code == code), None)
        if location is None:
            return None, "Choose the store you will bring your items to."
    elif method != Return.Method.MAIL:
        return None, "Choose mail or a store."
    return ReturnInput(order=order, lines=wanted, method=method, location=location), ""


@never_cache
@require_http_methods(["GET"])
def return_slip(request: HttpRequest, token: str, number: str) -> HttpResponse:
    """The printable return slip and the return's status."""
    if (refused := _refused(request)) is not None:
        return refused
    order = _order(request, token)
    ret = None
    if order is not None and return_number_is_plausible(number):
        ret = (
            Return.objects.select_related("location", "order", "refund")
            .prefetch_related("lines__product", "lines__order_line")
            .filter(order=order, number=number.upper())
            .first()
        )
    if ret is None:
        if order is not None:
            lookup_failed(address=client_address(request), number="")
        return _not_found(request)
    lines = list(ret.lines.all())
    context = {
        "order": order,
        "token": token,
        "ret": ret,
        "lines": lines,
        "status_text": STATUS_TEXT.get(Return.Status(ret.status), ""),
        "refund": refund_of(ret, lines),
        "code_svg": qr_svg(ret.number),
        "now": timezone.now(),
    }
    return _page(request, "returns/customer/slip.html", context)


def qr_svg(text: str) -> str:
    """Return `text` as an inline SVG QR code, for the counter's scanner."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()
