"""A live day of the demo network, minute by minute, through the real services.

Each simulated minute: orders arrive by channel at the rate of that hour of the day; stores
accept, prepare and hand over click & collect orders; warehouses accept and ship; now and
then a location rejects (a damaged box, written off), customer service cancels, a warehouse
receives a delivery of what runs low, a store counts a few shelves. Every write is a call to
the service a person or an integration would have made, so the dashboards, queues and
alerts move as they would in a real day, and `stock_reconcile` still agrees afterwards.

The simulated clock sets only the rates (orders by hour); rows carry the real time.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F

from core.exceptions import DomainError
from demo.history import CARRIERS, CHANNEL_WEIGHTS, HOUR_WEIGHTS, Person, people
from fulfilment.models import Fulfilment, RejectReason
from inventory.countfile import CountLine
from inventory.models import Location, StockLevel
from inventory.services import stock_receive
from inventory.services.counts import stock_count_apply
from orders.inputs import LineInput, OrderInput
from orders.models import Channel, Order
from orders.services.capture import order_place
from orders.services.fulfilments import (
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)
from orders.services.lifecycle import order_cancel

# Orders on a whole day at the default pace; the hours share them as HOUR_WEIGHTS says.
ORDERS_PER_DAY = 600
# Chances per simulated minute that a location works one row of each kind.
WORK_CHANCE = {"accept": 0.6, "ready": 0.4, "ship": 0.5, "collect": 0.25}
REJECT_SHARE = 0.03
CANCEL_CHANCE = 0.01
RECEIPT_EVERY_MINUTES = 30
COUNT_EVERY_MINUTES = 120
LOW_UNITS = 10
REFERENCE = "simulate"
FS = Fulfilment.Status


@dataclass
class Day:
    """What a simulated day needs between minutes: its randomness and its customers."""

    rng: random.Random
    orders_per_day: int = ORDERS_PER_DAY
    customers: list[Person] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)
    done: Counter = field(default_factory=Counter)
    number: int = 0

    def __post_init__(self) -> None:
        self.customers = self.customers or people(random.Random(self.rng.random()), 200)
        self.channels = {c.code: c for c in Channel.objects.filter(code__in=CHANNEL_WEIGHTS)}


def simulate_minute(*, day: Day, at: datetime, minute: int) -> Counter:
    """Run one simulated minute of the day at clock time `at`; return what was done."""
    done: Counter = Counter()
    rate = day.orders_per_day * HOUR_WEIGHTS[at.hour] / sum(HOUR_WEIGHTS) / 60
    arrivals = int(rate) + (1 if day.rng.random() < rate - int(rate) else 0)
    for _ in range(arrivals):
        done[_order(day)] += 1
    for step in (_stores_work, _warehouses_work, _service_cancels):
        done.update(step(day))
    if minute % RECEIPT_EVERY_MINUTES == 0:
        done.update(_receipt(day))
    if minute % COUNT_EVERY_MINUTES == COUNT_EVERY_MINUTES // 2:
        done.update(_count(day))
    day.done.update(done)
    return done


def _order(day: Day) -> str:
    rng = day.rng
    code = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    channel = day.channels.get(code)
    if channel is None:
        return "order skipped"
    collect = code == "store" or (code in ("web", "app") and rng.random() < 0.3)
    # Ask for what the network holds: a row with units to spare, at a store for a pickup.
    rows = StockLevel.objects.filter(
        on_hand__gt=F("allocated") + F("reserved") + F("safety_stock") + 1,
        location__active=True,
    )
    if collect:
        rows = rows.filter(location__kind=Location.Kind.STORE, location__click_and_collect=True)
    else:
        rows = rows.filter(location__ships=True)
    count = rows.count()
    if not count:
        return "order skipped"
    row = rows.select_related("product", "location").order_by("pk")[rng.randrange(count)]
    person = rng.choice(day.customers)
    day.number += 1
    try:
        order_place(
            data=OrderInput(
                channel=channel,
                lines=[LineInput(product=row.product, quantity=1)],
                email=person.email,
                name=person.name,
                phone=person.phone,
                address={}
                if collect
                else {
                    "line1": "3 place de la Mairie",
                    "city": person.city,
                    "postcode": person.postcode,
                    "country": "FR",
                    "lat": person.lat,
                    "lon": person.lon,
                },
                delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT
                if collect
                else Order.DeliveryMethod.STANDARD,
                pickup_location=row.location if collect else None,
            )
        )
    except DomainError:
        return "order refused"
    return f"{code} order"


def _oldest(status: str, *, stores: bool, collect: bool | None = None) -> Fulfilment | None:
    rows = Fulfilment.objects.filter(status=status)
    rows = (
        rows.filter(location__kind=Location.Kind.STORE)
        if stores
        else rows.exclude(location__kind=Location.Kind.STORE)
    )
    if collect is not None:
        method = Order.DeliveryMethod.CLICK_AND_COLLECT
        rows = (
            rows.filter(order__delivery_method=method)
            if collect
            else rows.exclude(order__delivery_method=method)
        )
    return rows.order_by("created_at", "id").first()


def _try(done: Counter, what: str, work) -> None:
    try:
        work()
    except DomainError:
        done[f"{what} refused"] += 1
    else:
        done[what] += 1


def _stores_work(day: Day) -> Counter:
    done: Counter = Counter()
    rng = day.rng
    if rng.random() < WORK_CHANCE["accept"] and (row := _oldest(FS.REQUESTED, stores=True)):
        _accept_or_reject(day, row, done)
    if rng.random() < WORK_CHANCE["ready"] and (
        row := _oldest(FS.ACCEPTED, stores=True, collect=True)
    ):
        _try(done, "ready for pickup", lambda: fulfilment_ready(fulfilment_id=row.pk))
    if rng.random() < WORK_CHANCE["collect"] and (row := _oldest(FS.READY_FOR_PICKUP, stores=True)):
        _try(done, "collected", lambda: fulfilment_collect(fulfilment_id=row.pk))
    if rng.random() < WORK_CHANCE["ship"] and (
        row := _oldest(FS.ACCEPTED, stores=True, collect=False)
    ):
        _ship(day, row, done)
    return done


def _warehouses_work(day: Day) -> Counter:
    done: Counter = Counter()
    rng = day.rng
    for _ in range(2):  # a warehouse has more hands than a store
        if rng.random() < WORK_CHANCE["accept"] and (row := _oldest(FS.REQUESTED, stores=False)):
            _accept_or_reject(day, row, done)
        if rng.random() < WORK_CHANCE["ship"] and (row := _oldest(FS.ACCEPTED, stores=False)):
            _ship(day, row, done)
    return done


def _accept_or_reject(day: Day, row: Fulfilment, done: Counter) -> None:
    if day.rng.random() < REJECT_SHARE:
        _try(
            done,
            "rejected",
            lambda: fulfilment_reject(
                fulfilment_id=row.pk,
                reason="Box damaged on the shelf",
                reason_code=RejectReason.DAMAGED,
            ),
        )
    else:
        _try(done, "accepted", lambda: fulfilment_accept(fulfilment_id=row.pk))


def _ship(day: Day, row: Fulfilment, done: Counter) -> None:
    carrier = day.rng.choice(CARRIERS)
    tracking = f"{carrier[:2].upper()}{day.rng.randrange(10**9, 10**10)}FR"
    _try(
        done,
        "shipped",
        lambda: fulfilment_ship(fulfilment_id=row.pk, carrier=carrier, tracking_number=tracking),
    )


def _service_cancels(day: Day) -> Counter:
    done: Counter = Counter()
    if day.rng.random() >= CANCEL_CHANCE:
        return done
    order = (
        Order.objects.filter(status=Order.Status.ALLOCATED, fulfilments__status=FS.REQUESTED)
        .order_by("-created_at")
        .first()
    )
    if order is not None:
        _try(
            done,
            "cancelled",
            lambda: order_cancel(order=order, reason="The customer changed their mind"),
        )
    return done


def _receipt(day: Day) -> Counter:
    """A delivery reaches a warehouse: what runs lowest there, by the pallet."""
    done: Counter = Counter()
    row = (
        StockLevel.objects.filter(location__ships=True)
        .exclude(location__kind=Location.Kind.STORE)
        .filter(on_hand__lt=F("allocated") + F("safety_stock") + LOW_UNITS)
        .select_related("product", "location")
        .order_by("on_hand", "pk")
        .first()
    )
    if row is not None:
        quantity = day.rng.choice([48, 96, 144])
        _try(
            done,
            "receipt",
            lambda: stock_receive(
                product=row.product, location=row.location, quantity=quantity, reference=REFERENCE
            ),
        )
    return done


def _count(day: Day) -> Counter:
    """A store counts three shelves: most agree, one is off by a unit or two."""
    done: Counter = Counter()
    store = (
        Location.objects.filter(kind=Location.Kind.STORE, active=True, stock_levels__on_hand__gt=0)
        .distinct()
        .order_by("pk")
    )
    count = store.count()
    if not count:
        return done
    location = store[day.rng.randrange(count)]
    rows = list(
        StockLevel.objects.filter(location=location, on_hand__gt=F("allocated") + 2)
        .select_related("product")
        .order_by("pk")[:3]
    )
    lines = [
        CountLine(
            row=i + 1,
            sku=row.product.sku,
            location=location.code,
            quantity=row.on_hand + (day.rng.choice([-2, -1, 1]) if i == 0 else 0),
            counted_at=None,
        )
        for i, row in enumerate(rows)
    ]
    if lines:
        _try(done, "count", lambda: stock_count_apply(lines=lines, actor=None, reference=REFERENCE))
    return done
