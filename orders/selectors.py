"""Reads about orders that span tables."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from orders.models import PROMISE_OPEN_STATUSES, Order

S = Order.Status
# Orders that lack stock cannot leave on time unless it arrives: at risk before the day.
WAITING_FOR_STOCK = [S.BACKORDERED, S.PARTIALLY_ALLOCATED]


# Waiting for incoming supply whose date still keeps the date the customer was told.
KEPT = Q(promised_to_customer__isnull=False, promised_date__lte=F("promised_to_customer"))


def orders_at_risk(*, now: datetime | None = None) -> QuerySet[Order]:
    """Return open orders that will miss, or have missed, their promised date.

    An order is at risk when its promised date is today or past (in the shop's time zone)
    and it has not yet fully left (shipped, ready for pickup, collected, delivered or
    cancelled orders are out); or when it has a promised date and still waits for stock,
    unless what it waits for is incoming supply still due in time for the date the
    customer was told (`KEPT`). Late ones are those whose promised date is
    past (`orders_late`). Oldest promise first. Uses the partial index `order_promise_open`.
    """
    today = timezone.localdate(now or timezone.now())
    return (
        Order.objects.filter(status__in=PROMISE_OPEN_STATUSES, promised_date__isnull=False)
        .filter(Q(promised_date__lte=today) | (Q(status__in=WAITING_FOR_STOCK) & ~KEPT))
        .order_by("promised_date", "id")
    )


def promise_broken(order: Order) -> bool:
    """Return whether incoming supply moved the order's date past the one the customer
    was told."""
    return (
        order.promised_to_customer is not None
        and order.promised_date is not None
        and order.promised_date > order.promised_to_customer
    )


def orders_late(*, now: datetime | None = None) -> QuerySet[Order]:
    """Return open orders whose promised date has passed."""
    today = timezone.localdate(now or timezone.now())
    return orders_at_risk(now=now).filter(promised_date__lt=today)


def promise_at_risk(order: Order, *, now: datetime | None = None) -> bool:
    """Return whether `orders_at_risk` would list this order (checked in memory)."""
    if order.promised_date is None or order.status not in PROMISE_OPEN_STATUSES:
        return False
    today = timezone.localdate(now or timezone.now())
    if order.promised_date <= today:
        return True
    if order.status not in WAITING_FOR_STOCK:
        return False
    return order.promised_to_customer is None or promise_broken(order)


# The requests of an order on hold (Order.held_for): its locations are not asked for its
# units until the release, so no queue, list or count shows them.
REQUESTS_OF_HELD_ORDERS = Q(status="requested") & ~Q(order__held_for="")


def requests_asked(requests: QuerySet) -> QuerySet:
    """Leave out of fulfilment requests those of orders on hold (REQUESTS_OF_HELD_ORDERS)."""
    return requests.exclude(REQUESTS_OF_HELD_ORDERS)
