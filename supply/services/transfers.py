"""Transfers between locations: request (holds the units), ship, receive, cancel.

Each action is one durable transaction: the transfer's row is locked first, then the stock
rows it moves (inventory.services.supply, pk order). Events `transfer.*` are written in the
same transaction and reach the subscriptions of both locations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.retry import retry_on_conflict
from inventory.exceptions import UnitsShort
from inventory.models import Location, Product
from inventory.services.supply import (
    transfer_units_arrive,
    transfer_units_hold,
    transfer_units_release,
    transfer_units_ship,
)
from orders.events import order_event_add
from orders.locks import lock_order
from orders.models import Order, OrderEvent
from orders.services.fulfilments import order_source_again
from orders.services.status import order_status_refresh
from outbox import events as event_types
from outbox.emit import Draft, events_emit
from supply.discrepancies import transfer_discrepancy_alert_sync
from supply.exceptions import InvalidTransition, LinesShort, SupplyInvalid
from supply.locks import lock_transfer
from supply.models import MAX_LINE_QUANTITY, Transfer, TransferLine
from supply.numbers import transfer_number_new
from supply.payloads import transfer_payload
from supply.pickup_arrival import WAITING, pickup_transfer_arrived, pickup_transfer_shipped

Status = Transfer.Status


@dataclass(frozen=True)
class TransferLineInput:
    product: Product
    quantity: int


def _actor(actor: AbstractBaseUser | None):
    return actor if actor is not None and actor.is_authenticated else None


def _emit(transfer: Transfer, event: str) -> None:
    events_emit(
        drafts=[
            Draft(
                event=event,
                data=transfer_payload(transfer),
                location_id=transfer.source_id,
                other_location_id=transfer.destination_id,
                key=f"transfer:{transfer.pk}",
            )
        ]
    )


def _lines_check(lines: Sequence[TransferLineInput]) -> None:
    if not lines:
        raise SupplyInvalid("A transfer moves at least one line.", field="lines")
    seen: dict[int, int] = {}
    for index, line in enumerate(lines):
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            raise SupplyInvalid(
                f"A quantity is 1 to {MAX_LINE_QUANTITY:,}.", field=f"lines[{index}].quantity"
            )
        if line.product.pk in seen:
            raise SupplyInvalid(
                f"{line.product.sku} is already on lines[{seen[line.product.pk]}]: one line "
                "per SKU.",
                field=f"lines[{index}].sku",
            )
        seen[line.product.pk] = index


@transaction.atomic(durable=True)
def transfer_create(
    *,
    source: Location,
    destination: Location,
    lines: Sequence[TransferLineInput],
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> Transfer:
    """Request a transfer and hold its units at `source` at once, all or nothing: raise
    `LinesShort` naming every line `source` cannot spare (nothing is held)."""
    return transfer_request(
        source=source, destination=destination, lines=lines, reference=reference, actor=actor
    )


def transfer_request(
    *,
    source: Location,
    destination: Location,
    lines: Sequence[TransferLineInput],
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    order: Order | None = None,
) -> Transfer:
    """`transfer_create` inside a caller's transaction: for an action that requests a
    transfer and records why in the same commit (a confirmed replenishment proposal, an
    alert's suggestion, a click & collect order's units for its store, `order`). The caller
    holds the transaction; a raise undoes it all."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transfer_request runs inside its caller's transaction")
    if source.pk == destination.pk:
        raise SupplyInvalid("A transfer goes to another location than it leaves.", field="to")
    _lines_check(lines)
    for index, line in enumerate(lines):
        if not line.product.active:
            raise SupplyInvalid(f"{line.product.sku} is not active.", field=f"lines[{index}].sku")
    transfer = _transfer_insert(
        source=source,
        destination=destination,
        reference=reference,
        actor=_actor(actor),
        order=order,
    )
    TransferLine.objects.bulk_create(
        [
            TransferLine(transfer=transfer, product=line.product, quantity=line.quantity)
            for line in lines
        ]
    )
    try:
        transfer_units_hold(
            location_id=source.pk, units={line.product.pk: line.quantity for line in lines}
        )
    except UnitsShort as short:
        by_product = {line.product.pk: (index, line) for index, line in enumerate(lines)}
        raise LinesShort(
            source.code,
            [
                {
                    "line": by_product[product_id][0],
                    "sku": by_product[product_id][1].product.sku,
                    "quantity": wanted,
                    "available": available,
                }
                for product_id, wanted, available in sorted(
                    short.shortages, key=lambda s: by_product[s[0]][0]
                )
            ],
        ) from None
    transfer.source, transfer.destination = source, destination
    _emit(transfer, event_types.TRANSFER_REQUESTED)
    return transfer


def _transfer_insert(*, source, destination, reference, actor, order) -> Transfer:
    for _ in range(5):
        try:
            with transaction.atomic():
                return Transfer.objects.create(
                    number=transfer_number_new(),
                    source=source,
                    destination=destination,
                    reference=reference[:128],
                    actor=actor,
                    order=order,
                )
        except IntegrityError:  # a number drawn twice: draw again
            continue
    raise RuntimeError("could not draw a free transfer number")


def _ensure(transfer: Transfer, status: str) -> None:
    if not transfer.can_become(status):
        raise InvalidTransition(
            f"Transfer {transfer.number} is {transfer.status}: it cannot become {status}."
        )


@transaction.atomic(durable=True)
def transfer_ship(*, transfer_id: int, actor: AbstractBaseUser | None = None) -> Transfer:
    """Ship a requested transfer: its held units leave `from` (ledger `transfer_out`) and
    count in `in_transit` at `to`."""
    transfer = lock_transfer(transfer_id)
    _ensure(transfer, Status.SHIPPED)
    transfer_units_ship(
        source_id=transfer.source_id,
        destination_id=transfer.destination_id,
        units={line.product_id: line.quantity for line in transfer.lines.all()},
        reference=f"transfer {transfer.number}",
        actor=_actor(actor),
    )
    transfer.status = Status.SHIPPED
    transfer.shipped_at = timezone.now()
    transfer.save(update_fields=["status", "shipped_at", "updated_at"])
    _emit(transfer, event_types.TRANSFER_SHIPPED)
    if transfer.order_id is not None:
        pickup_transfer_shipped(transfer=transfer, actor=_actor(actor))
    return transfer


def transfer_cancel(*, transfer_id: int, actor: AbstractBaseUser | None = None) -> Transfer:
    """Cancel a transfer not yet shipped: its held units are available again at `from`.

    A transfer bringing a click & collect order's units: the order's lock is taken first
    (the house order: order, transfer, stock). Its source refused the units, like a location
    rejecting its request: the order is sourced again away from it, as capture sources it
    (a transfer from another location, or its store's shelf), and otherwise waits for
    stock like any backorder."""
    return retry_on_conflict(lambda: _cancel(transfer_id, actor), operation="transfer_cancel")


@transaction.atomic(durable=True)
def _cancel(transfer_id: int, actor: AbstractBaseUser | None) -> Transfer:
    order = _lock_order_of(transfer_id)
    transfer = transfer_cancel_within(transfer=lock_transfer(transfer_id), actor=actor)
    if order is not None:
        waiting = order.status in WAITING
        note = f"Transfer {transfer.number} to the pickup store was cancelled" + (
            ": the order is sourced again elsewhere." if waiting else "."
        )
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            message=note,
            data={"transfer": transfer.number, "cancelled": True},
            actor=_actor(actor),
            public=False,
        )
        if waiting:
            order_source_again(order=order, actor=_actor(actor))
        order_status_refresh(order=order, actor=_actor(actor), note=note)
    return transfer


def _lock_order_of(transfer_id: int) -> Order | None:
    order_id = Transfer.objects.filter(pk=transfer_id).values_list("order_id", flat=True).first()
    return lock_order(order_id) if order_id is not None else None


def transfer_cancel_within(
    *, transfer: Transfer, actor: AbstractBaseUser | None = None
) -> Transfer:
    """`transfer_cancel` on a transfer the caller's transaction holds locked."""
    _ensure(transfer, Status.CANCELLED)
    transfer_units_release(
        location_id=transfer.source_id,
        units={line.product_id: line.quantity for line in transfer.lines.all()},
    )
    transfer.status = Status.CANCELLED
    transfer.cancelled_at = timezone.now()
    transfer.save(update_fields=["status", "cancelled_at", "updated_at"])
    _emit(transfer, event_types.TRANSFER_CANCELLED)
    return transfer


@transaction.atomic(durable=True)
def transfer_receive(
    *,
    transfer_id: int,
    received: Mapping[Product, int],
    actor: AbstractBaseUser | None = None,
) -> Transfer:
    """Receive units of a shipped transfer at `to` (ledger `transfer_in`) and close it.

    What shipped and is not in this receipt is recorded as missing (the transfer's
    discrepancy, with an alert at `to`) and leaves `in_transit`. Missing units that turn up
    later are received on the closed transfer: into on hand, and the discrepancy shrinks.
    """
    _lock_order_of(transfer_id)
    transfer = lock_transfer(transfer_id)
    lines = {line.product_id: line for line in transfer.lines.select_related("product")}
    closing = transfer.status == Status.SHIPPED
    if not closing and not (
        transfer.status == Status.RECEIVED and any(line.missing for line in lines.values())
    ):
        raise InvalidTransition(
            f"Transfer {transfer.number} is {transfer.status}: there is nothing to receive."
        )
    units: dict[int, int] = {}
    for index, (product, quantity) in enumerate(received.items()):
        line = lines.get(product.pk)
        field = f"lines[{index}]"
        if line is None:
            raise SupplyInvalid(
                f"{product.sku} is not on transfer {transfer.number}.", field=f"{field}.sku"
            )
        if quantity > line.missing:
            raise SupplyInvalid(
                f"{quantity} {product.sku} received, but only {line.missing} of "
                f"{line.quantity} are still expected.",
                field=f"{field}.quantity",
            )
        units[product.pk] = quantity
    # Closing settles every shipped unit out of in_transit: received, or missing.
    settled = {p: line.missing for p, line in lines.items()} if closing else {}
    transfer_units_arrive(
        location_id=transfer.destination_id,
        received=units,
        settled=settled,
        reference=f"transfer {transfer.number}",
        actor=_actor(actor),
    )
    for product_id, quantity in units.items():
        if quantity:
            line = lines[product_id]
            line.received += quantity
            line.save(update_fields=["received"])
    if closing:
        transfer.status = Status.RECEIVED
        transfer.received_at = timezone.now()
        transfer.save(update_fields=["status", "received_at", "updated_at"])
    transfer_discrepancy_alert_sync(transfer=transfer)
    _emit(transfer, event_types.TRANSFER_RECEIVED)
    if transfer.order_id is not None:
        pickup_transfer_arrived(transfer=transfer, received=units, actor=_actor(actor))
    return transfer
