"""/track/: the customer's order page, reached by number + e-mail or by a signed link.

No login. A wrong pair and an unknown number answer the same page, with the same status
(404), after the same single query; failed lookups are rate-limited (`limits`). The page
shows only what the customer may see: no internal notes, no costs, no locations but the
pickup store.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from fulfilment.models import Fulfilment
from orders.models import Order, OrderEvent, OrderLine
from orders.tracking.limits import client_address, lookup_blocked, lookup_failed, rate_limit
from orders.tracking.links import (
    number_is_plausible,
    order_for_lookup,
    tracking_token,
    tracking_token_number,
)

S = Order.Status
# What each status means, said to the customer.
STATUS_TEXT = {
    S.PENDING: "We have received your order.",
    S.ALLOCATED: "We are preparing your order.",
    S.PARTIALLY_ALLOCATED: "We are preparing part of your order; the rest is on its way to us.",
    S.BACKORDERED: "Your items are on their way to us; we will send your order when they arrive.",
    S.PARTIALLY_SHIPPED: "Part of your order has been shipped.",
    S.SHIPPED: "Your order has been shipped.",
    S.READY_FOR_PICKUP: "Your order is ready for pickup.",
    S.COLLECTED: "You have collected your order.",
    S.DELIVERED: "Your order has been delivered.",
    S.CANCELLED: "Your order has been cancelled.",
}
# The status in a word or two a customer uses ("allocated" is our word, not theirs).
STATUS_LABEL = {
    S.PENDING: "Received",
    S.ALLOCATED: "Being prepared",
    S.PARTIALLY_ALLOCATED: "Being prepared",
    S.BACKORDERED: "Waiting for stock",
    S.PARTIALLY_SHIPPED: "Partly shipped",
    S.SHIPPED: "Shipped",
    S.READY_FOR_PICKUP: "Ready for pickup",
    S.COLLECTED: "Collected",
    S.DELIVERED: "Delivered",
    S.CANCELLED: "Cancelled",
}
NOT_FOUND = 404
TOO_MANY = 429


# A lookup changes nothing and sets no session, so it needs no CSRF token; and without one,
# the "not found" page is the same bytes whatever was asked.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Show the lookup form; with `number` and `email` (form post, or query), the order."""
    params = request.POST if request.method == "POST" else request.GET
    if request.method == "GET" and "number" not in params and "email" not in params:
        return _page(request, "tracking/lookup.html", {})
    number = params.get("number", "").strip().upper()[:32]
    email = params.get("email", "").strip()[:254]
    counted_number = number if number_is_plausible(number) else ""
    address = client_address(request)
    if lookup_blocked(address=address, number=counted_number):
        return _too_many(request)
    order = order_for_lookup(number=number, email=email)
    if order is None:
        lookup_failed(address=address, number=counted_number)
        return _not_found(request)
    return _order_page(request, order.pk)


@never_cache
@require_http_methods(["GET"])
def track_link(request: HttpRequest, token: str) -> HttpResponse:
    """Show the order a signed link names; anything else is the lookup's "not found"."""
    number = tracking_token_number(token)
    order_pk = (
        Order.objects.filter(number=number).values_list("pk", flat=True).first() if number else None
    )
    if order_pk is None:
        return _not_found(request)
    return _order_page(request, order_pk)


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return _page(request, "tracking/lookup.html", {"not_found": True}, status=NOT_FOUND)


def _too_many(request: HttpRequest) -> HttpResponse:
    limit = rate_limit()
    response = _page(
        request,
        "tracking/limited.html",
        {"minutes": max(1, limit.window_seconds // 60)},
        status=TOO_MANY,
    )
    response["Retry-After"] = str(limit.window_seconds)
    return response


def _order_page(request: HttpRequest, order_pk: int) -> HttpResponse:
    order = (
        Order.objects.select_related("pickup_location")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
            Prefetch(
                "fulfilments",
                queryset=Fulfilment.objects.filter(status=Fulfilment.Status.SHIPPED).order_by(
                    "shipped_at", "id"
                ),
                to_attr="shipments",
            ),
            Prefetch("events", queryset=OrderEvent.objects.filter(public=True), to_attr="timeline"),
        )
        .get(pk=order_pk)
    )
    context = {
        "order": order,
        "status_text": STATUS_TEXT.get(order.status, ""),
        "status_label": STATUS_LABEL.get(order.status, S(order.status).label),
        "is_pickup": order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT,
        "lines": [
            {
                "sku": line.product.sku,
                "name": line.product.name,
                "quantity": line.quantity_open,
                "cancelled": line.quantity_cancelled,
                "shipped": line.quantity_shipped,
                "returned": line.quantity_returned,
            }
            for line in order.lines.all()
        ],
        # Received units not yet returned: the page offers "Return items" (the returns app,
        # under the same signed link).
        "can_return": any(
            line.quantity_shipped > line.quantity_returned for line in order.lines.all()
        ),
        "token": tracking_token(order.number),
        "shipments": order.shipments,
        "timeline": [
            {"when": event.created_at, "text": event.message or event.get_kind_display()}
            for event in reversed(order.timeline)
        ],
    }
    return _page(request, "tracking/order.html", context)
