"""Click & collect after the store has the parcel: tell the customer, and cancel what is not
collected within the store's hold period."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone

from core.enqueue import task_send_after_commit
from core.exceptions import DomainError
from orders.models import Order
from orders.services.lifecycle import order_cancel
from orders.tracking.links import tracking_url

logger = logging.getLogger(__name__)
# Named, not imported: the tasks module imports this one.
NOTIFY_TASK = "orders.tasks.pickup_ready_notify_task"
S = Order.Status
# No 0/O, 1/I/L: read aloud or typed from a phone screen, a code must not be misread.
PICKUP_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PICKUP_CODE_LENGTH = 6  # 31^6: about 887 million codes


class WrongPickupCode(DomainError):
    code = "wrong_pickup_code"


def pickup_code_new() -> str:
    """Return a fresh pickup code: short enough to type, drawn by the OS's secure random."""
    return "".join(secrets.choice(PICKUP_CODE_ALPHABET) for _ in range(PICKUP_CODE_LENGTH))


def pickup_code_normal(code: str) -> str:
    """Return a code as typed or scanned in its one form: capitals, no spaces or dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def pickup_code_check(*, order: Order, code: str) -> None:
    """Refuse a handover whose code is not the order's (compared in constant time)."""
    typed = pickup_code_normal(code)
    if not typed:
        raise WrongPickupCode("Type or scan the customer's pickup code.", field="pickup_code")
    if not order.pickup_code or not hmac.compare_digest(typed, order.pickup_code):
        raise WrongPickupCode(
            f"That is not the pickup code of order {order.number}.", field="pickup_code"
        )


def pickup_ready_announce(*, order: Order) -> None:
    """Send the "ready for pickup" e-mail after commit, from a task (slow I/O stays out of
    the transaction). Call with the order's lock held, once it is ready for pickup."""
    if order.status != S.READY_FOR_PICKUP or order.pickup_notified_at is not None:
        return
    order_id = order.pk
    task_send_after_commit(NOTIFY_TASK, order_id)


def pickup_ready_notify(*, order_id: int, now: datetime | None = None) -> bool:
    """E-mail the customer that the order waits at the store, with its address, hours and
    the last day to collect. At most once per order: the send is claimed first with a
    conditional UPDATE; a failed send gives the claim back for the task's retry."""
    now = now or timezone.now()
    claimed = Order.objects.filter(
        pk=order_id, status=S.READY_FOR_PICKUP, pickup_notified_at__isnull=True
    ).update(pickup_notified_at=now)
    if not claimed:
        return False
    order = Order.objects.select_related("pickup_location").get(pk=order_id)
    if not order.customer_email or order.pickup_location is None:
        return False
    try:
        _send(order, now)
    except Exception:
        Order.objects.filter(pk=order_id, pickup_notified_at=now).update(pickup_notified_at=None)
        raise
    return True


def pickup_deadline(order: Order) -> datetime | None:
    """Return when an order ready for pickup will be cancelled if not collected."""
    ready_at = order.fulfilments.aggregate(last=Max("ready_at"))["last"]
    if ready_at is None or order.pickup_location is None:
        return None
    return ready_at + timedelta(days=order.pickup_location.hold_days)


def _send(order: Order, now: datetime) -> None:
    store = order.pickup_location
    deadline = pickup_deadline(order)
    context = {
        "order": order,
        "store": store,
        "collect_by": timezone.localtime(deadline).date() if deadline else None,
        "tracking_url": tracking_url(order),
    }
    message = EmailMultiAlternatives(
        subject=f"Your order {order.number} is ready for pickup at {store.name}",
        body=render_to_string("orders/email/pickup_ready.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer_email],
    )
    message.attach_alternative(
        render_to_string("orders/email/pickup_ready.html", context), "text/html"
    )
    message.send()


def pickups_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel click & collect orders not collected within their store's hold period, which
    releases their stock; the reason joins the order's timeline. Return how many."""
    now = now or timezone.now()
    ready = (
        Order.objects.filter(
            status=S.READY_FOR_PICKUP, delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT
        )
        .select_related("pickup_location")
        .annotate(last_ready=Max("fulfilments__ready_at"))
        .order_by("last_ready")
    )
    cancelled = 0
    for order in ready[:limit]:
        store = order.pickup_location
        if store is None or order.last_ready is None:
            continue
        if order.last_ready + timedelta(days=store.hold_days) > now:
            continue
        reason = (
            f"Not collected within {store.hold_days} day(s) at {store.name}: "
            "the order was cancelled and its items returned to stock."
        )
        try:
            # order_cancel re-reads the order under its lock: a parcel collected meanwhile
            # is refused there, not cancelled.
            order_cancel(order=order, reason=reason)
        except DomainError as error:
            logger.info("uncollected order %s left as it is: %s", order.number, error.message)
            continue
        cancelled += 1
    return cancelled
