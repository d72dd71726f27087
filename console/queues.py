"""The work queues: which rows each holds for a person, and the bulk actions on them.

A queue is data: its rows (a queryset already limited to the person's locations), its
filters, and its actions, each of which calls one service per row. The console pages and
the background jobs both read these definitions, so a job does exactly what the page
would have done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.scoping import location_ids_for
from core.exceptions import DomainError
from fulfilment.models import Fulfilment
from orders.admin import order_ids_matching
from orders.models import Order
from orders.selectors import requests_asked
from orders.services.fulfilments import (
    RejectReason,
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)
from orders.services.lifecycle import order_cancel, order_resource

FULFILMENT_PERMISSION = "fulfilment.change_fulfilment"
ORDER_PERMISSION = "orders.change_order"
CANCEL_PERMISSION = "orders.cancel_order"


class InputError(DomainError):
    """An action's input is missing or wrong (a reason, a tracking number)."""


@dataclass(frozen=True)
class Action:
    slug: str
    label: str
    permission: str
    run: Callable[[Any, AbstractBaseUser, Mapping[str, str]], None]
    # Inputs the action reads: "reason" (one for all rows), "ship" (carrier and tracking
    # number per row), "code" (the customer's pickup code per row); the last two cannot run
    # over "every row of the queue".
    needs: str = ""
    danger: bool = False

    @property
    def whole_queue(self) -> bool:
        """Whether it may run over every row matching the filters, not only ticked ones."""
        return self.needs not in ("ship", "code")


@dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    help: str
    model: type
    view_permission: str
    actions: tuple[Action, ...] = field(default_factory=tuple)

    @property
    def of_fulfilments(self) -> bool:
        return self.model is Fulfilment

    def action(self, slug: str) -> Action | None:
        return next((action for action in self.actions if action.slug == slug), None)

    def rows(self, user: AbstractBaseUser, filters: Mapping[str, str] | None = None) -> QuerySet:
        """Return the queue's rows that `user` may see, narrowed by `filters`, oldest first."""
        filters = filters or {}
        scope = location_ids_for(user)
        if self.of_fulfilments:
            rows = _FULFILMENT_ROWS[self.slug]()
            if scope is not None:
                rows = rows.filter(location_id__in=scope)
            if code := filters.get("location"):
                rows = rows.filter(location__code=code)
            if method := filters.get("method"):
                rows = rows.filter(order__delivery_method=method)
            if term := filters.get("q", "").strip():
                rows = rows.filter(
                    Q(order_id__in=order_ids_matching(term)) | Q(tracking_number=term)
                )
            return rows.select_related("order__channel", "location").order_by("created_at", "id")
        rows = _ORDER_ROWS[self.slug]()
        if scope is not None:
            rows = rows.filter(of_locations(scope))
        if code := filters.get("channel"):
            rows = rows.filter(channel__code=code)
        if code := filters.get("location"):
            rows = rows.filter(of_locations_with_code(code))
        if term := filters.get("q", "").strip():
            rows = rows.filter(pk__in=order_ids_matching(term))
        return rows.select_related("channel", "pickup_location").order_by("created_at", "id")


def of_locations(location_ids) -> Q:
    """Match orders a location works on: it fulfils some of it, or it is the pickup place.

    `pk IN (subquery)` rather than a correlated EXISTS: PostgreSQL hashes the location's
    fulfilments once instead of probing them for every order (10x faster at 1M orders).
    """
    at = Fulfilment.objects.filter(location_id__in=location_ids).values("order_id")
    return Q(pickup_location_id__in=location_ids) | Q(pk__in=at)


def of_locations_with_code(code: str) -> Q:
    at = Fulfilment.objects.filter(order=OuterRef("pk"), location__code=code)
    return Q(pickup_location__code=code) | Q(Exists(at))


_FULFILMENT_ROWS: dict[str, Callable[[], QuerySet]] = {
    "to-accept": lambda: requests_asked(
        Fulfilment.objects.filter(status=Fulfilment.Status.REQUESTED)
    ),
    "to-ship": lambda: Fulfilment.objects.filter(status=Fulfilment.Status.ACCEPTED),
    "ready-for-pickup": lambda: Fulfilment.objects.filter(
        status=Fulfilment.Status.READY_FOR_PICKUP
    ),
}
_ORDER_ROWS: dict[str, Callable[[], QuerySet]] = {
    "backorders": lambda: Order.objects.filter(
        status__in=[Order.Status.BACKORDERED, Order.Status.PARTIALLY_ALLOCATED]
    ),
    "customer-service": lambda: Order.objects.filter(needs_attention=True),
}


def _reason(inputs: Mapping[str, str]) -> str:
    reason = (inputs.get("reason") or "").strip()
    if not reason:
        raise InputError("Give a reason.", field="reason")
    return reason[:255]


def _accept(fulfilment: Fulfilment, actor, inputs) -> None:
    fulfilment_accept(fulfilment_id=fulfilment.pk, actor=actor)


def _reject(fulfilment: Fulfilment, actor, inputs) -> None:
    code = inputs.get("reason_code") or RejectReason.OTHER
    if code not in RejectReason.CHOICES:
        raise InputError("Choose a known reason.", field="reason_code")
    fulfilment_reject(
        fulfilment_id=fulfilment.pk, reason=_reason(inputs), reason_code=code, actor=actor
    )


def _ship(fulfilment: Fulfilment, actor, inputs) -> None:
    carrier = (inputs.get(f"carrier-{fulfilment.pk}") or inputs.get("carrier") or "").strip()
    tracking = (inputs.get(f"tracking-{fulfilment.pk}") or "").strip()
    if not carrier or not tracking:
        raise InputError("Give its carrier and tracking number.", field="tracking_number")
    fulfilment_ship(
        fulfilment_id=fulfilment.pk,
        carrier=carrier[:64],
        tracking_number=tracking[:128],
        actor=actor,
    )


def _ready(fulfilment: Fulfilment, actor, inputs) -> None:
    fulfilment_ready(fulfilment_id=fulfilment.pk, actor=actor)


def _collect(fulfilment: Fulfilment, actor, inputs) -> None:
    # Handed over only against the customer's code, as at the counter.
    code = (inputs.get(f"code-{fulfilment.pk}") or "").strip()
    if not code:
        raise InputError("Type the customer's pickup code.", field="pickup_code")
    fulfilment_collect(fulfilment_id=fulfilment.pk, actor=actor, pickup_code=code[:32])


def _resource(order: Order, actor, inputs) -> None:
    order_resource(order=order, actor=actor)


def _cancel(order: Order, actor, inputs) -> None:
    order_cancel(order=order, actor=actor, reason=(inputs.get("reason") or "").strip()[:255])


ACCEPT = Action("accept", "Accept", FULFILMENT_PERMISSION, _accept)
REJECT = Action("reject", "Reject…", FULFILMENT_PERMISSION, _reject, needs="reason", danger=True)
SHIP = Action("ship", "Ship", FULFILMENT_PERMISSION, _ship, needs="ship")
READY = Action("ready", "Mark ready for pickup", FULFILMENT_PERMISSION, _ready)
COLLECT = Action("collect", "Mark collected", FULFILMENT_PERMISSION, _collect, needs="code")
RESOURCE = Action("resource", "Source again", ORDER_PERMISSION, _resource)
CANCEL = Action("cancel", "Cancel orders…", CANCEL_PERMISSION, _cancel, needs="cancel", danger=True)

QUEUES: dict[str, Queue] = {
    queue.slug: queue
    for queue in (
        Queue(
            "to-accept",
            "To accept",
            "Requests sent to a location: accept them, or reject what cannot be done.",
            Fulfilment,
            "fulfilment.view_fulfilment",
            (ACCEPT, REJECT),
        ),
        Queue(
            "to-ship",
            "To pick / ship",
            "Accepted requests: ship parcels with their tracking number; prepare pickups.",
            Fulfilment,
            "fulfilment.view_fulfilment",
            (SHIP, READY),
        ),
        Queue(
            "ready-for-pickup",
            "Ready for pickup",
            "Parcels waiting at the store for their customer.",
            Fulfilment,
            "fulfilment.view_fulfilment",
            (COLLECT,),
        ),
        Queue(
            "backorders",
            "Backorders",
            "Orders waiting for stock: they are allocated as stock arrives, or by hand.",
            Order,
            "orders.view_order",
            (RESOURCE, CANCEL),
        ),
        Queue(
            "customer-service",
            "Customer-service queue",
            "Orders that need a person: no location could fulfil them, or sourcing gave up.",
            Order,
            "orders.view_order",
            (RESOURCE, CANCEL),
        ),
    )
}


def queues_for(user: AbstractBaseUser) -> list[Queue]:
    """Return the queues `user` may open."""
    return [queue for queue in QUEUES.values() if user.has_perm(queue.view_permission)]


def row_label(row) -> str:
    if isinstance(row, Fulfilment):
        return f"{row.order.number} at {row.location.code}"
    return str(row)
