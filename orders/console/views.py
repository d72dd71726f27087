"""The order page of the console: what customer service and location staff see and do.

Staff only (Django's admin login). Every button is a POST form with CSRF that calls one
service; a domain error comes back as a message on the page, never as an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.scoping import scope_orders, scope_to_locations
from core.exceptions import DomainError
from core.replica import reads_from_replica
from fulfilment.models import Fulfilment
from inventory.models import Allocation, Location
from orders.console.explain import (
    explanation_codes,
    explanation_in_words,
    explanation_sections,
)
from orders.console.forms import (
    LineCancelForm,
    NoteForm,
    OrderCancelForm,
    RejectForm,
    ShipForm,
)
from orders.models import Order, OrderEvent, OrderLine
from orders.order_returns import order_returns_drawn, order_returns_prefetch
from orders.search import order_search
from orders.selectors import promise_at_risk
from orders.services.allocation import runner_ups_now
from orders.services.fulfilments import (
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)
from orders.services.lifecycle import (
    order_cancel,
    order_line_cancel,
    order_note_add,
    order_resource,
)
from orders.tracking.links import number_is_plausible, tracking_url
from orders.transitions import FULFILMENT_TRANSITIONS

ORDER_PERMISSION = "orders.change_order"
VIEW_PERMISSION = "orders.view_order"
# Cancelling is a permission of its own (accounts.roles).
CANCEL_PERMISSION = "orders.cancel_order"
MAX_LINE_NO = 32767  # order_line.line_no is a smallint
FULFILMENT_PERMISSION = "fulfilment.change_fulfilment"
# The engine's internals (cost parts, runner-ups) are for those who tune the network.
INTERNALS_PERMISSION = "inventory.change_location"
FS = Fulfilment.Status
OPEN_ORDER_STATUSES = {
    Order.Status.PENDING,
    Order.Status.ALLOCATED,
    Order.Status.PARTIALLY_ALLOCATED,
    Order.Status.BACKORDERED,
    Order.Status.READY_FOR_PICKUP,
}


def _order(number: str, queryset=None, *, user) -> Order:
    if not number_is_plausible(number):
        raise Http404("No such order.")
    # An order none of a location-bound user's locations works on is a 404 for them.
    orders = scope_orders(queryset if queryset is not None else Order.objects.all(), user)
    return get_object_or_404(orders, number=number)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@staff_member_required
@require_GET
@reads_from_replica
def order_find(request: HttpRequest) -> HttpResponse:
    """Go to the order a number names; otherwise list the customers' orders the term finds
    (orders.search): part of a name, e-mail or phone, an external id, a tracking number."""
    _require(request, VIEW_PERMISSION)
    term = request.GET.get("q", "").strip()
    visible = scope_orders(Order.objects.filter(number=term.upper()), request.user)
    if number_is_plausible(term.upper()) and visible.exists():
        return redirect("orders_console:order", number=term.upper())
    result = order_search(term=term, user=request.user) if term else None
    context = {
        **admin.site.each_context(request),
        "title": "Find a customer",
        "term": term,
        "result": result,
    }
    return render(request, "orders/console/find.html", context)


@staff_member_required
@require_GET
def order_page(request: HttpRequest, number: str) -> HttpResponse:
    order = _order(
        number,
        Order.objects.select_related("channel", "pickup_location").prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
            Prefetch(
                "lines__allocations",
                queryset=Allocation.objects.select_related("stock__location").order_by("id"),
                to_attr="every_allocation",
            ),
            Prefetch(
                "fulfilments",
                queryset=Fulfilment.objects.select_related("location").order_by("created_at", "id"),
            ),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            *order_returns_prefetch(),
        ),
        user=request.user,
    )
    can_change_order = request.user.has_perm(ORDER_PERMISSION)
    can_change_fulfilment = request.user.has_perm(FULFILMENT_PERMISSION)
    lines = list(order.lines.all())
    events = list(order.events.all())
    fulfilments = list(order.fulfilments.all())
    by_fulfilment: dict[int, list[Allocation]] = {}
    for line in lines:
        for allocation in line.every_allocation:
            by_fulfilment.setdefault(allocation.fulfilment_id, []).append(allocation)
        line.held = sum(
            a.quantity for a in line.every_allocation if a.status != Allocation.Status.RELEASED
        )
        line.cancellable = line.quantity_open - line.quantity_shipped
    for fulfilment in fulfilments:
        fulfilment.units = sum(
            a.quantity
            for a in by_fulfilment.get(fulfilment.pk, [])
            if a.status != Allocation.Status.RELEASED
        )
        fulfilment.actions = _fulfilment_actions(fulfilment, order) if can_change_fulfilment else []
    returns = _returns(order)
    context = {
        **admin.site.each_context(request),
        "title": f"Order {order.number}",
        "order": order,
        "lines": lines,
        "allocations": sorted(
            (a for line in lines for a in line.every_allocation), key=lambda a: a.pk
        ),
        "fulfilments": fulfilments,
        "returns": returns,
        "sourcing": _sourcing(
            order, events, lines, [a for line in lines for a in line.every_allocation]
        ),
        "internals_visible": request.user.has_perm(INTERNALS_PERMISSION),
        "totals": _totals(order, lines, returns),
        "events": events,
        "tracking_url": tracking_url(order, request),
        # The same rules as orders_at_risk (the admin's "promise" filter), on this order.
        "promise_at_risk": promise_at_risk(order),
        "promise_late": promise_at_risk(order) and order.promised_date < timezone.localdate(),
        "can_change_order": can_change_order,
        "order_is_open": order.status in OPEN_ORDER_STATUSES,
        "cancel_form": OrderCancelForm(),
        "line_cancel_form": LineCancelForm(),
        "note_form": NoteForm(),
        "ship_form": ShipForm(),
        "reject_form": RejectForm(),
    }
    return render(request, "orders/console/order.html", context)


def _returns(order: Order) -> list[dict]:
    """Return the order's returns as the API answers them, status and reasons in words."""
    return [
        {
            **drawn,
            "status_label": _words(drawn["status"]),
            "lines": [{**line, "reason_label": _words(line["reason"])} for line in drawn["lines"]],
        }
        for drawn in order_returns_drawn(order)
    ]


def _words(value: str) -> str:
    return value.replace("_", " ")


def _sourcing(
    order: Order, events: list[OrderEvent], lines: list[OrderLine], allocations: list[Allocation]
) -> list[dict]:
    """Return each sourcing decision: in words for everyone, in tables for internals.

    A decision recorded without runner-ups (capture leaves them out) gets them solved now,
    against the stock as it is: `runner_ups_at` says when, and the chosen locations' cost
    parts stay as recorded at the decision."""
    decisions = []
    for event in events:
        if event.kind != OrderEvent.Kind.ALLOCATED:
            continue
        explanation = event.data.get("explanation") if isinstance(event.data, dict) else None
        at = None
        if isinstance(explanation, dict) and not explanation.get("alternatives"):
            found = runner_ups_now(
                order=order, decision=event.data, lines=lines, allocations=allocations
            )
            if found is not None:
                explanation, at = {**explanation, "alternatives": found}, timezone.now()
        decisions.append((event, explanation, at))
    codes = set().union(*(explanation_codes(explanation) for _, explanation, _ in decisions))
    names = (
        dict(Location.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    )
    return [
        {
            "event": event,
            "runner_ups_at": at,
            "words": explanation_in_words(explanation, names, order.currency),
            "sections": explanation_sections(
                explanation,
                runner_ups_at=None if at is None else timezone.localtime(at).strftime("%H:%M:%S"),
            ),
        }
        for event, explanation, at in decisions
    ]


def _totals(order: Order, lines: list[OrderLine], returns: list[dict]) -> dict[str, Decimal | None]:
    """Return what the customer pays: lines as ordered, less cancelled units, plus delivery;
    then what was refunded for returns, and what the customer paid in the end."""
    ordered = sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
    cancelled = sum((line.unit_price * line.quantity_cancelled for line in lines), Decimal("0.00"))
    delivery = order.shipping_price
    total = ordered - cancelled + (delivery or Decimal("0.00"))
    # Only refunds recorded as paid count; one due is shown on its return, not taken off.
    refunded = sum(
        (Decimal(r["refund"]["amount"]) for r in returns if r["refund"]["status"] == "refunded"),
        Decimal("0.00"),
    )
    return {
        "ordered": ordered,
        "cancelled": cancelled,
        "delivery": delivery,
        "total": total,
        "refunded": refunded,
        "net": total - refunded,
    }


def _fulfilment_actions(fulfilment: Fulfilment, order: Order) -> list[str]:
    """Return the buttons the fulfilment's status allows: accept, ship, ready, collected,
    reject."""
    allowed = FULFILMENT_TRANSITIONS[fulfilment.status]
    pickup = order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT
    actions = []
    if FS.ACCEPTED in allowed:
        actions.append("accept")
    if FS.SHIPPED in allowed and not pickup:
        actions.append("ship")
    if FS.READY_FOR_PICKUP in allowed and pickup:
        actions.append("ready")
    if FS.COLLECTED in allowed:
        actions.append("collected")
    if FS.REJECTED in allowed:
        actions.append("reject")
    return actions


def _run(request: HttpRequest, number: str, work: Callable[[], str]) -> HttpResponse:
    """Run one service call; tell its outcome as a message and go back to the order page."""
    try:
        messages.success(request, work())
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("orders_console:order", number=number)


def _form_error(request: HttpRequest, number: str, form) -> HttpResponse:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize()
        for error in errors:
            messages.error(request, f"{label}: {error}" if field != "__all__" else error)
    return redirect("orders_console:order", number=number)


@staff_member_required
@require_POST
def order_cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    _require(request, CANCEL_PERMISSION)
    order = _order(number, user=request.user)
    form = OrderCancelForm(request.POST)
    if not form.is_valid():
        return _form_error(request, number, form)

    def work() -> str:
        order_cancel(order=order, actor=request.user, reason=form.cleaned_data["reason"])
        return f"Order {order.number} cancelled."

    return _run(request, number, work)


@staff_member_required
@require_POST
def order_line_cancel_view(request: HttpRequest, number: str, line: int) -> HttpResponse:
    _require(request, CANCEL_PERMISSION)
    order = _order(number, user=request.user)
    if line > MAX_LINE_NO or not order.lines.filter(line_no=line).exists():
        raise Http404("No such line.")
    form = LineCancelForm(request.POST)
    if not form.is_valid():
        return _form_error(request, number, form)

    def work() -> str:
        cancelled = order_line_cancel(
            order=order,
            line_no=line,
            quantity=form.cleaned_data["quantity"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        return f"Line {line} now has {cancelled.quantity_cancelled} unit(s) cancelled."

    return _run(request, number, work)


@staff_member_required
@require_POST
def order_resource_view(request: HttpRequest, number: str) -> HttpResponse:
    _require(request, ORDER_PERMISSION)
    order = _order(number, user=request.user)

    def work() -> str:
        done = order_resource(order=order, actor=request.user)
        return f"Order {done.number} sourced again: {Order.Status(done.status).label.lower()}."

    return _run(request, number, work)


@staff_member_required
@require_POST
def order_note_view(request: HttpRequest, number: str) -> HttpResponse:
    _require(request, ORDER_PERMISSION)
    order = _order(number, user=request.user)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _form_error(request, number, form)

    def work() -> str:
        order_note_add(order=order, text=form.cleaned_data["text"], actor=request.user)
        return "Note added."

    return _run(request, number, work)


@staff_member_required
@require_POST
def fulfilment_action_view(request: HttpRequest, number: str, pk: int, action: str) -> HttpResponse:
    _require(request, FULFILMENT_PERMISSION)
    if not number_is_plausible(number) or pk > 2**63 - 1:
        raise Http404("No such fulfilment.")
    fulfilments = scope_to_locations(Fulfilment.objects.all(), request.user, "location")
    fulfilment = get_object_or_404(fulfilments, pk=pk, order__number=number)
    actor = request.user
    if action == "ship":
        form = ShipForm(request.POST)
        if not form.is_valid():
            return _form_error(request, number, form)

        def work() -> str:
            fulfilment_ship(fulfilment_id=fulfilment.pk, actor=actor, **form.cleaned_data)
            return f"Fulfilment {fulfilment.pk} shipped."

    elif action == "reject":
        form = RejectForm(request.POST)
        if not form.is_valid():
            return _form_error(request, number, form)

        def work() -> str:
            fulfilment_reject(fulfilment_id=fulfilment.pk, actor=actor, **form.cleaned_data)
            return f"Fulfilment {fulfilment.pk} rejected; its lines were sourced again."

    elif action in SIMPLE_ACTIONS:
        service, said = SIMPLE_ACTIONS[action]

        def work() -> str:
            service(fulfilment_id=fulfilment.pk, actor=actor)
            return f"Fulfilment {fulfilment.pk} {said}."

    else:
        raise Http404("No such action.")
    return _run(request, number, work)


SIMPLE_ACTIONS = {
    "accept": (fulfilment_accept, "accepted"),
    "ready": (fulfilment_ready, "marked ready for pickup"),
    "collected": (fulfilment_collect, "collected"),
}
