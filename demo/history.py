"""Ninety days of order history for the demo network, so every dashboard has a story.

Closed orders (shipped, delivered, collected, cancelled, some after a rejection) are written
in bulk: one INSERT per table per batch, their dates set afterwards (the models stamp
`created_at` with the current time). They hold no stock: what they shipped left before the
opening stock was counted. Orders still open (waiting to be accepted, ready for pickup,
backordered, late) go through the real services instead, so allocations, stock counters
and fulfilment requests are exactly what capture would have made.

Deterministic (a seeded random generator) and idempotent: orders carry an external id
`DEMO-H-<n>` (history) or `DEMO-L-<n>` (open); what exists already is not written again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alerts_sweep, network_rule_set, stock_rule_set
from core.exceptions import DomainError
from core.sql import rows_insert
from fulfilment.models import Fulfilment
from inventory.models import Location, Product
from orders.inputs import LineInput, OrderInput
from orders.models import Channel, Order, OrderEvent, OrderLine
from orders.numbers import order_number_new
from orders.services.capture import order_place
from orders.services.fulfilments import (
    RejectReason,
    fulfilment_accept,
    fulfilment_ready,
    fulfilment_reject,
)
from outbox.models import WebhookSubscription

HISTORY_PREFIX = "DEMO-H-"
OPEN_PREFIX = "DEMO-L-"
DAYS = 90
BATCH = 500

# fmt: off
FIRST = [
    "Ada", "Alan", "Amélie", "Bruno", "Camille", "Chloé", "Claire", "Daniel", "Élise",
    "Emma", "Félix", "Gabriel", "Hugo", "Inès", "Jules", "Juliette", "Karim", "Léa",
    "Louis", "Lucas", "Manon", "Marie", "Mathis", "Nina", "Noah", "Océane", "Paul",
    "Quentin", "Raphaël", "Sarah", "Sofia", "Théo", "Thomas", "Victor", "Yasmine", "Zoé",
]
# fmt: on
# fmt: off
LAST = [
    "Lovelace", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
    "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia",
    "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André",
    "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier",
    "Faure", "Rousseau", "Blanc",
]
# fmt: on
CITIES = [
    ("75011", "Paris", 48.859, 2.379),
    ("69003", "Lyon", 45.760, 4.859),
    ("13006", "Marseille", 43.289, 5.380),
    ("33000", "Bordeaux", 44.837, -0.579),
    ("59000", "Lille", 50.629, 3.057),
    ("31000", "Toulouse", 43.604, 1.444),
    ("44000", "Nantes", 47.218, -1.553),
    ("67000", "Strasbourg", 48.573, 7.752),
    ("21000", "Dijon", 47.322, 5.041),
    ("06000", "Nice", 43.703, 7.266),
]
CHANNEL_WEIGHTS = {"web": 45, "app": 25, "store": 15, "marketplace": 15}
# Orders a day by hour of the day (Paris time): a lunch bump and an evening peak.
HOUR_WEIGHTS = [1, 0, 0, 0, 0, 1, 2, 4, 6, 7, 8, 9, 10, 9, 8, 8, 8, 9, 11, 13, 14, 12, 8, 4]
CARRIERS = ["colissimo", "chronopost", "dpd", "ups"]
WEBHOOKS = [
    ("https://storefront.example.com/hooks/oms", ["order.created", "order.shipped"], "Storefront"),
    ("https://erp.example.com/oms/stock", ["stock.changed"], "ERP stock feed"),
]


@dataclass
class Person:
    name: str
    email: str
    phone: str
    postcode: str
    city: str
    lat: float
    lon: float


def people(rng: random.Random, count: int = 400) -> list[Person]:
    """Return `count` customers; the first is Ada Lovelace, whom the README's search finds."""
    found = []
    for i in range(count):
        first = "Ada" if i == 0 else rng.choice(FIRST)
        last = "Lovelace" if i == 0 else rng.choice(LAST)
        postcode, city, lat, lon = rng.choice(CITIES)
        handle = f"{first}.{last}".lower().translate(str.maketrans("éèëçï", "eeeci"))
        found.append(
            Person(
                name=f"{first} {last}",
                email=f"{handle}{i}@example.com",
                phone=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                postcode=postcode,
                city=city,
                lat=lat + rng.uniform(-0.05, 0.05),
                lon=lon + rng.uniform(-0.05, 0.05),
            )
        )
    return found


def _at(day: date, rng: random.Random) -> datetime:
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    naive = datetime.combine(day, datetime.min.time()) + timedelta(
        hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
    )
    return timezone.make_aware(naive)


def history_seed(*, rng: random.Random, days: int = DAYS, per_day: int = 40) -> int:
    """Write `days` days of closed orders (about `per_day` a day) unless they exist; return
    how many were written."""
    if Order.objects.filter(external_id__startswith=HISTORY_PREFIX).exists():
        return 0
    channels = {c.code: c for c in Channel.objects.filter(code__in=CHANNEL_WEIGHTS)}
    products = list(Product.objects.filter(active=True).order_by("sku")[:300])
    warehouses = list(
        Location.objects.filter(ships=True, active=True).exclude(kind=Location.Kind.STORE)
    )
    stores = list(Location.objects.filter(kind=Location.Kind.STORE, click_and_collect=True))
    if not (channels and products and warehouses and stores):
        return 0
    customers = people(rng)
    today = timezone.localdate()
    plans = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        # Weekends sell a third more; the network grew a little over the quarter.
        volume = per_day * (1.3 if day.weekday() >= 5 else 1.0) * (0.8 + 0.2 * (days - back) / days)
        for _ in range(round(rng.gauss(volume, volume / 8))):
            plans.append(_plan(rng, day, channels, products, warehouses, stores, customers))
    written = 0
    for start in range(0, len(plans), BATCH):
        written += _write(plans[start : start + BATCH], start)
    return written


@dataclass
class Plan:
    at: datetime
    channel: Channel
    person: Person
    method: str
    pickup: Location | None
    lines: list[tuple[Product, int, Decimal]]
    # (location, final status, rejected first at another location)
    fulfilment: Location
    outcome: str
    rejected_at: Location | None


def _plan(rng, day, channels, products, warehouses, stores, customers) -> Plan:
    code = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    code = code if code in channels else next(iter(channels))
    collect = code == "store" or (code in ("web", "app") and rng.random() < 0.3)
    pickup = rng.choice(stores) if collect else None
    lines = []
    for product in rng.sample(products, rng.choices([1, 2, 3], weights=[6, 3, 1])[0]):
        price = product.price or Decimal(rng.randint(8, 120)) - Decimal("0.10")
        lines.append((product, rng.choices([1, 2, 3], weights=[8, 2, 1])[0], price))
    roll = rng.random()
    if roll < 0.07:
        outcome = "cancelled"
    elif collect:
        outcome = "collected"
    else:
        outcome = "delivered" if roll > 0.75 else "shipped"
    rejected_at = rng.choice(warehouses) if rng.random() < 0.04 and not collect else None
    source = pickup if pickup is not None else rng.choice(warehouses)
    return Plan(
        at=_at(day, rng),
        channel=channels[code],
        person=rng.choice(customers),
        method=Order.DeliveryMethod.CLICK_AND_COLLECT
        if collect
        else rng.choices(
            [Order.DeliveryMethod.STANDARD, Order.DeliveryMethod.EXPRESS], weights=[4, 1]
        )[0],
        pickup=pickup,
        lines=lines,
        fulfilment=source,
        outcome=outcome,
        rejected_at=rejected_at if rejected_at != source else None,
    )


@transaction.atomic
def _write(plans: list[Plan], offset: int) -> int:
    orders = []
    for i, plan in enumerate(plans):
        p = plan.person
        collect = plan.pickup is not None
        orders.append(
            Order(
                number=order_number_new(),
                channel=plan.channel,
                external_id=f"{HISTORY_PREFIX}{offset + i + 1:06d}",
                status=plan.outcome,
                customer_email=p.email,
                customer_name=p.name,
                customer_phone=p.phone,
                customer_phone_digits="".join(ch for ch in p.phone if ch.isdigit()),
                ship_line1="" if collect else f"{(offset + i) % 90 + 1} rue de la République",
                ship_city="" if collect else p.city,
                ship_postcode="" if collect else p.postcode,
                ship_country="FR",
                ship_lat=None if collect else p.lat,
                ship_lon=None if collect else p.lon,
                delivery_method=plan.method,
                pickup_location=plan.pickup,
                promised_date=plan.at.date() + timedelta(days=1 if collect else 3),
                shipping_price=Decimal("0.00") if collect else Decimal("4.90"),
                logistics_cost=Decimal(250 + (offset + i) * 37 % 1150) / 100,
                sourcing_attempts=2 if plan.rejected_at else 1,
                created_at=plan.at,
                updated_at=plan.at,
            )
        )
    # One INSERT per table, dates as planned (bulk_create would stamp them with now).
    rows_insert(orders)
    lines, fulfilments, events = [], [], []
    for order, plan in zip(orders, plans, strict=True):
        cancelled = plan.outcome == "cancelled"
        for no, (product, quantity, price) in enumerate(plan.lines, start=1):
            lines.append(
                OrderLine(
                    order=order,
                    line_no=no,
                    product=product,
                    quantity=quantity,
                    unit_price=price,
                    quantity_shipped=0 if cancelled else quantity,
                    quantity_cancelled=quantity if cancelled else 0,
                )
            )
        events.append(_event(order, OrderEvent.Kind.CREATED, "Order received", plan.at))
        events.append(_event(order, OrderEvent.Kind.ALLOCATED, "Stock allocated", plan.at + SECOND))
        done_at = plan.at + timedelta(hours=20 if plan.pickup is None else 26)
        if plan.rejected_at is not None:
            fulfilments.append(
                _fulfilment(order, plan.rejected_at, Fulfilment.Status.REJECTED, plan.at)
            )
            events.append(
                _event(
                    order,
                    OrderEvent.Kind.FULFILMENT_REJECTED,
                    f"{plan.rejected_at.code} could not fill it (damaged box); sourced again",
                    plan.at + timedelta(hours=3),
                )
            )
        status = {
            "cancelled": Fulfilment.Status.CANCELLED,
            "collected": Fulfilment.Status.COLLECTED,
        }.get(plan.outcome, Fulfilment.Status.SHIPPED)
        fulfilments.append(_fulfilment(order, plan.fulfilment, status, plan.at, done_at))
        if cancelled:
            events.append(
                _event(
                    order, OrderEvent.Kind.CANCELLED, "Cancelled at the customer's request", done_at
                )
            )
        elif plan.pickup is not None:
            events.append(
                _event(order, OrderEvent.Kind.READY_FOR_PICKUP, "Ready for pickup", done_at)
            )
            events.append(
                _event(order, OrderEvent.Kind.COLLECTED, "Collected", done_at + timedelta(days=1))
            )
        else:
            events.append(_event(order, OrderEvent.Kind.SHIPPED, "Shipped", done_at))
            if plan.outcome == "delivered":
                events.append(
                    _event(
                        order, OrderEvent.Kind.DELIVERED, "Delivered", done_at + timedelta(days=2)
                    )
                )
    rows_insert(lines)
    rows_insert(fulfilments)
    rows_insert(events)
    return len(orders)


SECOND = timedelta(seconds=1)


def _event(order: Order, kind: str, message: str, at: datetime) -> OrderEvent:
    return OrderEvent(order=order, kind=kind, message=message, created_at=at)


def _fulfilment(order, location, status, at, done_at=None) -> Fulfilment:
    fulfilment = Fulfilment(
        order=order, location=location, status=status, created_at=at, updated_at=done_at or at
    )
    if status == Fulfilment.Status.SHIPPED:
        fulfilment.carrier = CARRIERS[order.pk % len(CARRIERS)]
        fulfilment.tracking_number = f"{fulfilment.carrier[:2].upper()}{order.pk:010d}FR"
        fulfilment.accepted_at = at + timedelta(hours=1)
        fulfilment.shipped_at = done_at
    elif status == Fulfilment.Status.COLLECTED:
        fulfilment.accepted_at = at + timedelta(minutes=40)
        fulfilment.ready_at = done_at
        fulfilment.collected_at = done_at + timedelta(days=1) if done_at else None
    elif status == Fulfilment.Status.REJECTED:
        fulfilment.reason = "Damaged box"
    return fulfilment


def open_orders_seed(*, rng: random.Random, count: int = 36) -> int:
    """Place today's open orders through the real services unless they exist: some waiting
    to be accepted, some accepted, some ready for pickup, some backordered, a few late, one
    rejected by a store. Return how many were placed."""
    if Order.objects.filter(external_id__startswith=OPEN_PREFIX).exists():
        return 0
    channels = {c.code: c for c in Channel.objects.filter(code__in=CHANNEL_WEIGHTS)}
    stores = list(
        Location.objects.filter(kind=Location.Kind.STORE, click_and_collect=True).order_by("code")
    )
    products = list(Product.objects.filter(active=True).order_by("sku")[:300])
    if not (channels and stores and products):
        return 0
    customers = people(random.Random(rng.random()), 60)
    # A product no location holds: its orders wait for stock (backordered).
    unstocked = (
        Product.objects.filter(active=True)
        .annotate(units=Sum("stock_levels__on_hand"))
        .filter(Q(units=0) | Q(units__isnull=True))
        .order_by("sku")
        .first()
    )
    placed = []
    for i in range(count):
        person = customers[i % len(customers)] if i else people(random.Random(0), 1)[0]
        code = ["web", "app", "store", "marketplace"][i % 4]
        collect = code == "store" or (code == "web" and i % 3 == 0)
        pickup = stores[i % len(stores)] if collect else None
        if i % 9 == 8:
            # More than the network holds: a backorder (partial when some units exist).
            wanted = [(unstocked, 2) if unstocked else (products[i], 5000)]
        else:
            wanted = [(p, 1) for p in rng.sample(products, rng.choice([1, 1, 2]))]
        try:
            order, _ = order_place(
                data=OrderInput(
                    channel=channels.get(code) or next(iter(channels.values())),
                    lines=[LineInput(product=p, quantity=q) for p, q in wanted],
                    external_id=f"{OPEN_PREFIX}{i + 1:04d}",
                    email=person.email,
                    name=person.name,
                    phone=person.phone,
                    address={}
                    if collect
                    else {
                        "line1": "12 avenue Jean Jaurès",
                        "city": person.city,
                        "postcode": person.postcode,
                        "country": "FR",
                        "lat": person.lat,
                        "lon": person.lon,
                    },
                    delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT
                    if collect
                    else Order.DeliveryMethod.STANDARD,
                    pickup_location=pickup,
                )
            )
        except DomainError:
            continue
        placed.append(order)
    for i, order in enumerate(placed):
        for fulfilment in order.fulfilments.filter(status=Fulfilment.Status.REQUESTED):
            try:
                if i % 5 == 1:
                    fulfilment_accept(fulfilment_id=fulfilment.pk)
                elif i % 5 == 2 and order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT:
                    fulfilment_accept(fulfilment_id=fulfilment.pk)
                    fulfilment_ready(fulfilment_id=fulfilment.pk)
                elif i == 7:
                    fulfilment_reject(
                        fulfilment_id=fulfilment.pk,
                        reason="Box damaged in the stockroom",
                        reason_code=RejectReason.DAMAGED,
                    )
            except DomainError:
                continue
    _make_late(placed[::6])
    return len(placed)


def _make_late(orders: list[Order]) -> None:
    """Date a few open orders three days back, promised for yesterday: what a warehouse that
    fell behind leaves, and what the late-order alert and the dashboard's "at risk" show."""
    three_days_ago = timezone.now() - timedelta(days=3)
    yesterday = timezone.localdate() - timedelta(days=1)
    ids = [o.pk for o in orders]
    Order.objects.filter(pk__in=ids).update(created_at=three_days_ago, promised_date=yesterday)
    Fulfilment.objects.filter(order_id__in=ids).update(created_at=three_days_ago)


def alerting_seed() -> int:
    """Give the network alert rules (unless it has some) and evaluate them now, so the
    alerts page opens on real alerts. Return how many rules were made."""
    from alerts.models import NetworkRule, StockRule

    if StockRule.objects.exists() or NetworkRule.objects.exists():
        return 0
    made = 0
    for code, threshold in (("DC-PARIS", 25), ("DC-LYON", 20), ("DC-LILLE", 15)):
        location = Location.objects.filter(code=code).first()
        if location is not None:
            stock_rule_set(product=None, location=location, threshold=threshold)
            made += 1
    network_rule_set(product=None, channel=None, threshold=30)
    made += 1
    alerts_sweep()
    return made


def webhooks_seed() -> int:
    """Add the demo's webhook subscriptions, paused (their receivers are examples): switch
    one on in the admin after pointing it at a receiver of yours."""
    existing = set(WebhookSubscription.objects.values_list("url", flat=True))
    missing = [
        WebhookSubscription(
            url=url, secret=f"demo-{i}", events=events, description=name, active=False
        )
        for i, (url, events, name) in enumerate(WEBHOOKS)
        if url not in existing
    ]
    WebhookSubscription.objects.bulk_create(missing)
    return len(missing)


def open_alerts() -> int:
    return Alert.objects.unresolved().count()
