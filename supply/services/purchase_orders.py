"""Purchase orders: open (idempotent by number), move the expected date, cancel, receive.

An open purchase order counts the units it still expects in `incoming` at its location
(inventory.services.supply). Receiving puts units on hand with a ledger `receipt` whose
reference is the purchase order's number; the units free backorders as any receipt does.
A supplier delivering more than ordered is received in full and flagged (`over_received`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Location, Product
from inventory.services.supply import incoming_move, purchase_units_receive
from orders.locks import lock_orders
from orders.services.lifecycle import order_backorder_allocate
from supply.exceptions import InvalidTransition, SupplyInvalid
from supply.locks import lock_purchase_order
from supply.models import MAX_LINE_QUANTITY, PurchaseOrder, PurchaseOrderLine
from supply.promises import (
    promises_redate,
    promises_waiting_order_ids,
    promises_withdraw,
    purchase_promises_fulfil,
)

Status = PurchaseOrder.Status


def _actor(actor: AbstractBaseUser | None):
    return actor if actor is not None and actor.is_authenticated else None


def purchase_order_create(
    *,
    number: str,
    supplier: str,
    location: Location,
    expected_on: date,
    lines: Sequence[tuple[Product, int]],
    actor: AbstractBaseUser | None = None,
) -> tuple[PurchaseOrder, bool]:
    """Open a purchase order; return it and whether it is new. The same number again
    (also concurrently) answers the existing one and changes nothing."""
    existing = PurchaseOrder.objects.filter(number=number).first()
    if existing is not None:
        return existing, False
    if not lines:
        raise SupplyInvalid("A purchase order has at least one line.", field="lines")
    for index, (_product, quantity) in enumerate(lines):
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            raise SupplyInvalid(
                f"A quantity is 1 to {MAX_LINE_QUANTITY:,}.", field=f"lines[{index}].quantity"
            )
    try:
        return _create(
            number=number,
            supplier=supplier,
            location=location,
            expected_on=expected_on,
            lines=lines,
            actor=_actor(actor),
        ), True
    except IntegrityError:
        # A concurrent request with the same number committed first: answer with its order.
        existing = PurchaseOrder.objects.filter(number=number).first()
        if existing is None:
            raise
        return existing, False


@transaction.atomic(durable=True)
def _create(*, number, supplier, location, expected_on, lines, actor) -> PurchaseOrder:
    purchase_order = PurchaseOrder.objects.create(
        number=number,
        supplier=supplier,
        location=location,
        expected_on=expected_on,
        actor=actor,
    )
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(purchase_order=purchase_order, product=product, quantity=quantity)
            for product, quantity in lines
        ]
    )
    incoming_move(
        location_id=location.pk, units={product.pk: quantity for product, quantity in lines}
    )
    return purchase_order


def _ensure_open(purchase_order: PurchaseOrder, doing: str) -> None:
    if not purchase_order.is_open:
        raise InvalidTransition(
            f"Purchase order {purchase_order.number} is {purchase_order.status}: "
            f"it cannot be {doing}."
        )


@transaction.atomic(durable=True)
def purchase_order_reschedule(
    *, purchase_order_id: int, expected_on: date, actor: AbstractBaseUser | None = None
) -> PurchaseOrder:
    """Move the date an open purchase order is expected on."""
    purchase_order = lock_purchase_order(purchase_order_id)
    _ensure_open(purchase_order, "rescheduled")
    if purchase_order.expected_on != expected_on:
        purchase_order.expected_on = expected_on
        purchase_order.save(update_fields=["expected_on", "updated_at"])
        promises_redate(purchase_order=purchase_order, actor=_actor(actor))
    return purchase_order


@transaction.atomic(durable=True)
def purchase_order_cancel(
    *, purchase_order_id: int, actor: AbstractBaseUser | None = None
) -> PurchaseOrder:
    """Cancel what an open purchase order still expects: it leaves `incoming`, and the
    orders it was promised to are promised other supply or lose their date (told)."""
    purchase_order = lock_purchase_order(purchase_order_id)
    _ensure_open(purchase_order, "cancelled")
    # The house lock order: the orders, then stock rows, then what a promise locks.
    orders = lock_orders(promises_waiting_order_ids(purchase_order))
    incoming_move(
        location_id=purchase_order.location_id,
        units={line.product_id: -line.outstanding for line in purchase_order.lines.all()},
    )
    purchase_order.status = Status.CANCELLED
    purchase_order.cancelled_at = timezone.now()
    purchase_order.save(update_fields=["status", "cancelled_at", "updated_at"])
    promises_withdraw(
        purchase_order=purchase_order,
        orders=[orders[pk] for pk in sorted(orders)],
        actor=_actor(actor),
    )
    return purchase_order


@transaction.atomic(durable=True)
def purchase_order_receive(
    *,
    purchase_order_id: int,
    received: Mapping[Product, int],
    actor: AbstractBaseUser | None = None,
) -> PurchaseOrder:
    """Receive units of an open purchase order at its location (ledger `receipt`)."""
    purchase_order = lock_purchase_order(purchase_order_id)
    _ensure_open(purchase_order, "received")
    lines = {line.product_id: line for line in purchase_order.lines.all()}
    units: dict[int, int] = {}
    settled: dict[int, int] = {}
    for index, (product, quantity) in enumerate(received.items()):
        line = lines.get(product.pk)
        if line is None:
            raise SupplyInvalid(
                f"{product.sku} is not on purchase order {purchase_order.number}.",
                field=f"lines[{index}].sku",
            )
        units[product.pk] = quantity
        settled[product.pk] = min(quantity, line.outstanding)
    purchase_units_receive(
        location_id=purchase_order.location_id,
        received=units,
        settled=settled,
        reference=purchase_order.number,
        actor=_actor(actor),
    )
    waiting = purchase_promises_fulfil(
        line_ids_units={lines[p].pk: n for p, n in units.items() if n}
    )
    for product_id, quantity in units.items():
        if quantity:
            line = lines[product_id]
            line.received += quantity
            line.save(update_fields=["received"])
    if waiting:
        # The orders promised these units get them first, oldest first, once they are on
        # hand: each in a transaction of its own (order, then stock: the house lock order).
        transaction.on_commit(lambda: _allocate_promised(waiting))
    if all(line.received >= line.quantity for line in lines.values()):
        purchase_order.status = Status.RECEIVED
        purchase_order.received_at = timezone.now()
    elif any(line.received for line in lines.values()):
        purchase_order.status = Status.PARTIALLY_RECEIVED
    purchase_order.save(update_fields=["status", "received_at", "updated_at"])
    return purchase_order


def _allocate_promised(order_ids: list[int]) -> None:
    for order_id in order_ids:
        order_backorder_allocate(order_id=order_id)
