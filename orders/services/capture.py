"""Take an order from any channel: record it, allocate it, in one transaction.

`channel` + `external_id` is unique in the database, so the same order sent
again — even by many clients at the same moment — yields the one order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.exceptions import FieldErrors
from core.metrics import order_capture_seconds, orders_captured
from core.retry import retry_on_conflict
from core.sql import Writes, instances, pks_reserve
from fulfilment.models import Fulfilment
from inventory.incoming import Shortfall, incoming_promise
from inventory.models import Allocation, Location, Product
from inventory.selectors import channel_location_q
from orders.exceptions import OrderRejected
from orders.inputs import LineInput, OrderBody, OrderInput, phone_digits
from orders.models import Channel, Order, OrderEvent, OrderLine, Reservation, external_id_is
from orders.numbers import order_number_new
from orders.payloads import order_captured_drafts
from orders.pickup_transfers import pickup_transfers_request
from orders.places import address_placed
from orders.services.allocation import (
    Recorded,
    Want,
    allocations_write,
    destination_of,
    order_candidates,
    plan_cost,
    stock_source,
)
from orders.services.delivery_options import incoming_promise_date, order_promise
from orders.services.pickup_transfers import pickup_bound, pickup_plan_split
from orders.services.preorders import preorders_unpromised_events
from orders.services.reservations import reservation_attach, reservation_consume
from outbox.emit import events_emit


@dataclass(frozen=True)
class Captured:
    """The order `order_capture` answers with and whether it made it now; for a new order,
    also the rows it wrote (the answer needs no second read)."""

    order: Order
    created: bool
    lines: list[OrderLine] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    fulfilments: list[Fulfilment] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    # The new order as `order.created` carries it (orders.payloads), for the answer to reuse.
    drawn: dict | None = None


def order_place(*, data: OrderInput, actor: AbstractBaseUser | None = None) -> tuple[Order, bool]:
    """Record and allocate an order; return it and whether it was created now.

    The same channel + external_id sent again answers the existing order.
    """
    captured = order_capture(data=data, actor=actor)
    return captured.order, captured.created


def order_capture(*, data: OrderInput, actor: AbstractBaseUser | None = None) -> Captured:
    """`order_place`, answering the rows written as well.

    The same channel + external_id sent again answers the existing order, whatever it asks
    now. No read looks for it first: the unique index decides, also between concurrent
    twins (the second insert waits for the first transaction, then fails), and only a
    refused order is looked up.
    """
    # An address without coordinates is placed from its postcode or city here, outside
    # the transaction (orders.places: data read in this process, no call out).
    if data.address and data.delivery_method != Order.DeliveryMethod.CLICK_AND_COLLECT:
        data = replace(data, address=address_placed(data.address))
    started = time.perf_counter()
    try:
        order_input_check(data)
        captured = retry_on_conflict(lambda: _place(data, actor), operation="order_capture")
    except (IntegrityError, OrderRejected):
        if data.external_id:
            existing = _existing(data)
            if existing is not None:
                return Captured(order=existing, created=False)
        raise
    channel = data.channel.code
    order_capture_seconds.labels(channel).observe(time.perf_counter() - started)
    if captured.created:
        orders_captured.labels(channel, captured.order.status).inc()
    return captured


def _existing(data: OrderInput) -> Order | None:
    return Order.objects.filter(external_id_is(data.external_id), channel=data.channel).first()


def order_input_resolve(body: OrderBody) -> OrderInput:
    """Return the order a body asks for with its codes looked up: the channel and every
    product in one query, the pickup store and the reservation when named. Raise
    FieldErrors naming a code nothing answers to; what the network then makes of the order
    (an inactive channel, a retired SKU, a store that does not serve it) is
    `order_input_check`'s, for every way in alike."""
    channel, products = _channel_and_products(body.channel, {line.sku for line in body.lines})
    if channel is None:
        raise FieldErrors({"channel": [f"Unknown channel '{body.channel}'."]})
    unknown = _line_errors(
        body.lines, lambda line: None if line.sku in products else f"Unknown SKU '{line.sku}'."
    )
    if unknown:
        raise FieldErrors(unknown)
    pickup = None
    if body.pickup_location is not None:
        pickup = Location.objects.filter(code=body.pickup_location).first()
        if pickup is None:
            raise FieldErrors(
                {"pickup_location": [f"No location with code '{body.pickup_location}'."]}
            )
    reservation = None
    if body.reservation is not None:
        reservation = Reservation.objects.filter(public_id=body.reservation).first()
        if reservation is None:
            raise FieldErrors({"reservation": [f"No reservation '{body.reservation}'."]})
    return OrderInput(
        channel=channel,
        lines=[
            LineInput(
                product=products[line.sku], quantity=line.quantity, unit_price=line.unit_price
            )
            for line in body.lines
        ],
        external_id=body.external_id,
        email=body.customer.email,
        name=body.customer.name,
        phone=body.customer.phone,
        address=body.shipping_address.as_dict() if body.shipping_address else {},
        delivery_method=body.delivery_method,
        pickup_location=pickup,
        currency=body.currency,
        reservation=reservation,
    )


# The channel and the products of a body in one plain query: every order reads them, and the
# ORM's two reads took three times as long.
_CHANNEL_FIELDS = tuple(field.attname for field in Channel._meta.concrete_fields)
_PRODUCT_FIELDS = ("id", "sku", "name", "active", "preorder")


def _channel_and_products(code: str, skus: set[str]) -> tuple[Channel | None, dict[str, Product]]:
    """Return the channel with this code (None if unknown) and the products named, by SKU."""
    columns = [f"c.{name}" for name in _CHANNEL_FIELDS] + [f"p.{name}" for name in _PRODUCT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Channel._meta.db_table} c"
            f" LEFT JOIN {Product._meta.db_table} p"
            f" ON p.sku IN ({', '.join(['%s'] * len(skus))}) WHERE c.code = %s",
            [*sorted(skus), code],
        )
        rows = cursor.fetchall()
    if not rows:
        return None, {}
    split = len(_CHANNEL_FIELDS)
    [channel] = instances(Channel, _CHANNEL_FIELDS, [rows[0][:split]])
    found = [row[split:] for row in rows if row[split] is not None]
    return channel, {product.sku: product for product in instances(Product, _PRODUCT_FIELDS, found)}


def order_input_check(data: OrderInput) -> None:
    """Refuse an order the network cannot take as sent, naming the field."""
    if not data.channel.active:
        raise OrderRejected(f"Channel '{data.channel.code}' is not active.", field="channel")
    if not data.lines:
        raise OrderRejected("An order needs at least one line.", field="lines")
    retired = _line_errors(
        data.lines,
        lambda line: (
            None if line.product.active else f"SKU '{line.product.sku}' is no longer sold."
        ),
    )
    if retired:
        raise FieldErrors(retired, code=OrderRejected.code)
    store = data.pickup_location
    if data.delivery_method != Order.DeliveryMethod.CLICK_AND_COLLECT:
        if store is not None:
            raise OrderRejected("Only for click_and_collect.", field="pickup_location")
        return
    if store is None:
        raise OrderRejected("Click & collect needs a pickup location.", field="pickup_location")
    if not store.active:
        raise OrderRejected(f"Location '{store.code}' is not active.", field="pickup_location")
    if not store.click_and_collect:
        raise OrderRejected(
            f"Location '{store.code}' does not offer click & collect.", field="pickup_location"
        )
    if not channel_serves(data.channel, store):
        raise OrderRejected(
            f"Location '{store.code}' does not serve channel '{data.channel.code}'.",
            field="pickup_location",
        )


def _line_errors(lines: Sequence[Any], problem: Callable[[Any], str | None]) -> dict[str, Any]:
    """Return `{"lines": [...]}` naming every line `problem` finds fault with, or {}."""
    each = [problem(line) for line in lines]
    if not any(each):
        return {}
    last = max(index for index, message in enumerate(each) if message)
    return {"lines": [{"sku": [message]} if message else {} for message in each[: last + 1]]}


def channel_serves(channel: Channel, location: Location) -> bool:
    """A channel that names no locations is served by every active location."""
    return Location.objects.filter(pk=location.pk).filter(channel_location_q(channel)).exists()


@transaction.atomic(durable=True)
def _place(data: OrderInput, actor) -> Captured:
    """Source first, then write the order, its lines, allocations, requests and timeline in
    one statement each: this is the hot path of the whole system."""
    now = timezone.now()
    address = data.address or {}
    candidates = order_candidates(
        channel=data.channel,
        delivery_method=data.delivery_method,
        pickup_location_id=data.pickup_location.pk if data.pickup_location else None,
    )
    reservation = None
    if data.reservation is not None:
        # Its units go back on rows this transaction then holds, for this order to take.
        reservation = reservation_consume(
            reservation=data.reservation,
            channel=data.channel,
            product_ids={line.product.pk for line in data.lines},
            candidates=candidates,
            now=now,
        )
    # A pre-order product is never taken from the shelves: only incoming supply serves it.
    wants = [
        Want(i, line.product.pk, line.product.sku, line.quantity)
        for i, line in enumerate(data.lines)
        if not line.product.preorder
    ]
    sourced = stock_source(
        destination=destination_of(
            lat=address.get("lat"),
            lon=address.get("lon"),
            pickup=data.pickup_location,
            candidates=candidates,
        ),
        wants=wants,
        candidates=candidates,
    )
    allocated = sourced.units if sourced else 0
    wanted = sum(line.quantity for line in data.lines)
    if data.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT and allocated < wanted:
        # Click & collect is served by the pickup store alone: refuse what it cannot hold.
        store = data.pickup_location
        raise OrderRejected(
            f"{store.name} ({store.code}) does not have the whole basket for click & collect"
            + (" and no warehouse can send the rest." if candidates.with_shipping else "."),
            field="pickup_location",
        )
    # The quoted option: its date from the plan just confirmed, its price from the channel's
    # delivery prices (settings kept in memory: no query).
    promised_date, shipping_price = order_promise(
        channel=data.channel,
        method=data.delivery_method,
        sourced=sourced,
        lat=address.get("lat"),
        lon=address.get("lon"),
        pickup=data.pickup_location,
        value=sum((line.unit_price * line.quantity for line in data.lines), Decimal(0)),
        at=now,
    )
    order = _order(
        data,
        status=_status_at_capture(allocated, wanted),
        logistics_cost=plan_cost(sourced),
        now=now,
    )
    order.promised_date, order.shipping_price = promised_date, shipping_price
    # Every row of the order goes to the database in one statement at the end (core.sql
    # .Writes): the keys that rows name each other by are drawn first, in one round trip.
    plan = sourced.plan if sourced is not None else None
    writes = Writes(
        pks_reserve(
            {
                Order: 1,
                OrderLine: len(data.lines),
                Fulfilment: len({item.location for item in plan.allocations}) if plan else 0,
                Allocation: len(plan.allocations) if plan else 0,
            }
        )
    )
    writes.insert([order])
    if reservation is not None:
        reservation_attach(reservation=reservation, order=order)
    lines = [
        OrderLine(
            order=order,
            line_no=i,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for i, line in enumerate(data.lines, start=1)
    ]
    writes.insert(lines)
    events = [
        OrderEvent(
            order=order,
            kind=OrderEvent.Kind.CREATED,
            message="Order received.",
            data={"channel": data.channel.code, "external_id": data.external_id},
            actor=actor if actor is not None and actor.is_authenticated else None,
            created_at=now,
        )
    ]
    if reservation is not None:
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.NOTE,
                message=f"Reservation {reservation.public_id} "
                + (
                    "consumed: its units went to this order."
                    if reservation.status == Reservation.Status.CONSUMED
                    else "had expired; the order was allocated without it."
                ),
                data={"reservation": str(reservation.public_id)},
                public=False,
                created_at=now,
            )
        )
    recorded = Recorded(allocations=[], fulfilments=[])
    # Click & collect by transfer: the store's own units are allocated there; those found
    # elsewhere are held by transfers to the store, and count as held for the order.
    held, away = pickup_plan_split(sourced, candidates)
    if held is not None:
        recorded = allocations_write(
            order=order,
            lines=lines,
            sourced=held,
            actor=actor,
            reuse_requests=False,
            now=now,
            writes=writes,
        )
        events += recorded.events
    bound = pickup_bound(lines, away)
    if bound:
        # The transfers' service reads and locks the order beside its rows: they go first.
        writes.run()
        events += pickup_transfers_request(order=order, bound=bound, actor=actor, now=now)
    if allocated < wanted:
        # Promising incoming supply reads and writes beside the order's rows: they go first.
        writes.run()
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.BACKORDERED,
                message=f"Waiting for stock: {wanted - allocated} unit(s).",
                created_at=now,
            )
        )
        events += _promise_incoming(
            order=order, lines=lines, recorded=recorded, candidates=candidates, now=now
        )
    writes.insert(events)
    # order.created and the requests to the locations; the order is drawn once, for the
    # event and for the answer.
    drafts = order_captured_drafts(
        order=order,
        lines=lines,
        allocations=recorded.allocations,
        fulfilments=recorded.fulfilments,
    )
    events_emit(drafts=drafts, writes=writes)
    writes.run()
    return Captured(
        order=order,
        created=True,
        lines=lines,
        allocations=recorded.allocations,
        fulfilments=recorded.fulfilments,
        events=events,
        drawn=drafts[0].data,
    )


def _promise_incoming(*, order, lines, recorded, candidates, now) -> list[OrderEvent]:
    """Promise the units the shelves could not give against incoming supply (purchase
    orders), earliest first, and date the order by the latest of them. An order with units
    neither can serve has no promised date."""
    given: dict[int, int] = {}
    for allocation in recorded.allocations:
        given[allocation.order_line_id] = given.get(allocation.order_line_id, 0) + (
            allocation.quantity
        )
    shortfalls = [
        Shortfall(line.pk, line.product_id, line.quantity - given.get(line.pk, 0)) for line in lines
    ]
    if order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT:
        promised = []
    else:
        promised = incoming_promise(shortfalls=shortfalls, candidates=candidates)
    unpromised = preorders_unpromised_events(
        order=order, lines=lines, shortfalls=shortfalls, promised=promised, now=now
    )
    if not promised:
        return unpromised
    short = sum(s.units for s in shortfalls) - sum(p.units for p in promised)
    promised_date = None
    if promised and short == 0:
        promised_date = incoming_promise_date(
            method=order.delivery_method,
            supply=[(p.location_id, p.expected_on) for p in promised],
            lat=order.ship_lat,
            lon=order.ship_lon,
        )
        if promised_date is not None and order.promised_date is not None:
            promised_date = max(promised_date, order.promised_date)
    if promised_date != order.promised_date or promised_date is not None:
        # The date told to the customer: a purchase order moved later breaks it.
        order.promised_date = order.promised_to_customer = promised_date
        Order.objects.filter(pk=order.pk).update(
            promised_date=promised_date, promised_to_customer=promised_date
        )
    units = sum(p.units for p in promised)
    return [
        OrderEvent(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            message=f"{units} unit(s) promised from incoming supply"
            + (f", delivery by {promised_date.isoformat()}." if promised_date else "."),
            data={
                "incoming": [
                    [p.order_line_id, p.expected_on.isoformat(), p.units] for p in promised
                ]
            },
            created_at=now,
        ),
        *unpromised,
    ]


def _status_at_capture(allocated: int, wanted: int) -> str:
    if allocated >= wanted:
        return Order.Status.ALLOCATED
    return Order.Status.PARTIALLY_ALLOCATED if allocated else Order.Status.BACKORDERED


def _order(
    data: OrderInput, *, status: str, logistics_cost: Decimal | None, now: datetime
) -> Order:
    address = data.address or {}
    # A clash of two random 9-character numbers is a 1 in 10^13 event; the unique index
    # catches it, and the request is retried by the client like any failure.
    return Order(
        number=order_number_new(),
        channel=data.channel,
        external_id=data.external_id,
        status=status,
        customer_email=data.email.strip().lower(),
        customer_name=data.name,
        customer_phone=data.phone,
        customer_phone_digits=phone_digits(data.phone),
        ship_line1=address.get("line1", ""),
        ship_line2=address.get("line2", ""),
        ship_city=address.get("city", ""),
        ship_postcode=address.get("postcode", ""),
        ship_country=(address.get("country") or "").upper(),
        ship_lat=address.get("lat"),
        ship_lon=address.get("lon"),
        ship_placed_by=address.get("placed_by")
        or ("given" if address.get("lat") is not None else ""),
        delivery_method=data.delivery_method,
        pickup_location=data.pickup_location,
        currency=data.currency.upper(),
        sourcing_attempts=1,
        logistics_cost=logistics_cost,
        held_for=data.held_for,
        created_at=now,
        updated_at=now,
    )
