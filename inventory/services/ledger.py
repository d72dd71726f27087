"""Movements of stock: receipts, adjustments, damages, transfers.

Each public service is one durable transaction that locks the stock rows it
touches (pk order), writes the ledger line and moves the balance with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.sql import rows_insert
from inventory.exceptions import IdempotencyConflict, InsufficientStock, InvalidQuantity
from inventory.locks import lock_stock
from inventory.models import Location, Product, StockLevel, StockMovement
from inventory.moved import stock_changed
from inventory.notify import stock_freed
from inventory.services.counters import column_add

Kind = StockMovement.Kind

# The sign each movement kind applies to a positive quantity given by a caller.
# Adjustments and counts carry their own sign.
_SIGN = {
    Kind.RECEIPT: 1,
    Kind.TRANSFER_IN: 1,
    Kind.RETURN: 1,
    Kind.DAMAGE: -1,
    Kind.TRANSFER_OUT: -1,
    Kind.SHIPMENT: -1,
}


def movement_apply(
    *,
    stock: StockLevel,
    kind: str,
    quantity: int,
    reference: str = "",
    reason: str = "",
    actor: AbstractBaseUser | None = None,
    operation: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    counted_at: datetime | None = None,
    at: datetime | None = None,
) -> StockMovement:
    """Write one ledger line on a stock row the caller has locked, and move on_hand with it.

    Refuse a movement that would take on_hand below zero.
    """
    if quantity == 0 and kind != Kind.COUNT:
        raise InvalidQuantity("Quantity must not be zero.")
    after = stock.on_hand + quantity
    if after < 0:
        raise InsufficientStock(
            f"Only {stock.on_hand} on hand of {stock.product.sku} at {stock.location.code}; "
            f"cannot remove {-quantity}."
        )
    now = at or timezone.now()
    if quantity:
        StockLevel.objects.filter(pk=stock.pk).update(
            on_hand=F("on_hand") + quantity, updated_at=now
        )
        stock.on_hand = after
        stock_changed([stock.pk])
        if quantity > 0:
            stock_freed(product_ids=[stock.product_id])
    return StockMovement.objects.create(
        stock=stock,
        kind=kind,
        quantity=quantity,
        on_hand_after=after,
        reference=reference[:128],
        reason=reason[:255],
        operation=operation or uuid.uuid4(),
        idempotency_key=idempotency_key or None,
        counted_at=counted_at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        created_at=now,
    )


# Ledger lines per INSERT: eleven parameters each, under the 65,535 a statement may hold.
_INSERT_CHUNK = 2_000


def movements_apply_many(
    *,
    moves: Sequence[tuple[StockLevel, int, str]],
    kind: str,
    actor: AbstractBaseUser | None = None,
    at: datetime | None = None,
) -> None:
    """Write many ledger lines `(stock row, signed quantity, reference)` on stock rows the
    caller has locked, and move on_hand with them: one UPDATE of the balances and one
    INSERT per 2,000 lines, however many there are (`movement_apply`, set-based). Lines on
    one row follow each other in the given order. Refuse, before writing anything, a line
    that would take on_hand below zero."""
    now = at or timezone.now()
    operation = uuid.uuid4()
    person = actor if actor is not None and actor.is_authenticated else None
    balance: dict[int, int] = {}
    rows: dict[int, StockLevel] = {}
    movements = []
    for stock, quantity, reference in moves:
        if quantity == 0:
            raise InvalidQuantity("Quantity must not be zero.")
        before = balance.get(stock.pk, stock.on_hand)
        if before + quantity < 0:
            raise InsufficientStock(
                f"Only {before} on hand of {stock.product.sku} at {stock.location.code}; "
                f"cannot remove {-quantity}."
            )
        balance[stock.pk] = before + quantity
        rows[stock.pk] = stock
        movements.append(
            StockMovement(
                stock_id=stock.pk,
                kind=kind,
                quantity=quantity,
                on_hand_after=before + quantity,
                reference=reference[:128],
                reason="",
                operation=operation,
                actor=person,
                created_at=now,
            )
        )
    if not movements:
        return
    column_add(
        column="on_hand",
        units_by_stock={pk: after - rows[pk].on_hand for pk, after in balance.items()},
        now=now,
    )
    for start in range(0, len(movements), _INSERT_CHUNK):
        rows_insert(movements[start : start + _INSERT_CHUNK])
    for pk, after in balance.items():
        rows[pk].on_hand = after
    stock_changed(list(balance))
    stock_freed(product_ids=[stock.product_id for stock, quantity, _ in moves if quantity > 0])


def movements_apply_selected(
    *,
    select: str,
    params: Sequence[Any] = (),
    kind: str,
    actor: AbstractBaseUser | None = None,
    at: datetime | None = None,
) -> None:
    """Write the ledger lines that `select` yields, `(stock_id, quantity, reference,
    ordinal)` on stock rows the caller has locked, and move on_hand with them: one INSERT ...
    SELECT and one UPDATE ... FROM however many lines (`movements_apply_many` for rows staged
    in the database, a file's). Lines on one row follow each other by `ordinal`. Only kinds
    that add units: a removal must be checked line by line (`movements_apply_many`)."""
    if _SIGN.get(Kind(kind)) != 1:
        raise InvalidQuantity(f"'{kind}' does not add units: apply it line by line.")
    now = connection.ops.adapt_datetimefield_value(at or timezone.now())
    operation = StockMovement._meta.get_field("operation").get_db_prep_value(
        uuid.uuid4(), connection
    )
    person = actor.pk if actor is not None and actor.is_authenticated else None
    table = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        # Balances first: on_hand_after is the row's balance before this statement's units
        # plus the running sum of its lines, so read "before" as after less the row's total.
        cursor.execute(
            f"UPDATE {table} SET on_hand = {table}.on_hand + m.units, updated_at = %s "
            f"FROM (SELECT stock_id, sum(quantity) AS units FROM ({select}) x "
            f"WHERE quantity > 0 GROUP BY stock_id) m WHERE {table}.id = m.stock_id "
            "RETURNING id, product_id",
            [now, *params],
        )
        moved = cursor.fetchall()
        if not moved:
            return
        cursor.execute(
            "INSERT INTO inventory_stockmovement (stock_id, kind, quantity, on_hand_after, "
            "reference, reason, operation, actor_id, created_at) "
            "SELECT x.stock_id, %s, x.quantity, s.on_hand - sum(x.quantity) OVER "
            "(PARTITION BY x.stock_id) + sum(x.quantity) OVER (PARTITION BY x.stock_id "
            "ORDER BY x.ordinal ROWS UNBOUNDED PRECEDING), substr(x.reference, 1, 128), '', "
            f"%s, %s, %s FROM ({select}) x JOIN {table} s ON s.id = x.stock_id "
            "WHERE x.quantity > 0 ORDER BY x.stock_id, x.ordinal",
            [kind, operation, person, now, *params],
        )
    stock_changed([stock_id for stock_id, _ in moved])
    stock_freed(product_ids=[product_id for _, product_id in moved])


def _signed(kind: str, quantity: int) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidQuantity("Quantity must be a whole number.")
    if kind == Kind.ADJUSTMENT:
        if quantity == 0:
            raise InvalidQuantity("An adjustment must change the quantity (not 0).")
        return quantity
    if kind not in _SIGN:
        raise InvalidQuantity(f"'{kind}' is not a movement kind.", field="kind")
    if quantity <= 0:
        raise InvalidQuantity(f"A {Kind(kind).label.lower()} quantity must be positive.")
    return _SIGN[kind] * quantity


def _replay(idempotency_key: str, *, stock_place: tuple[int, int], kind: str, quantity: int):
    """Return the movement already recorded under this key, or raise if the key was used
    for something else."""
    movement = (
        StockMovement.objects.select_related("stock__product", "stock__location")
        .filter(idempotency_key=idempotency_key)
        .first()
    )
    if movement is None:
        return None
    same = (
        (movement.stock.product_id, movement.stock.location_id) == stock_place
        and movement.kind == kind
        and movement.quantity == quantity
    )
    if not same:
        raise IdempotencyConflict(
            "This idempotency key was already used for a different movement.",
            field="idempotency_key",
        )
    return movement


def stock_movement_record(
    *,
    product: Product,
    location: Location,
    kind: str,
    quantity: int,
    reference: str = "",
    reason: str = "",
    actor: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
) -> StockMovement:
    """Record one movement of a kind a person or an integration may post.

    With an idempotency key, the same movement sent again is recorded once.
    """
    if kind == Kind.COUNT or kind == Kind.SHIPMENT:
        raise InvalidQuantity(
            f"'{kind}' movements are recorded by counts and shipments, not posted.", field="kind"
        )
    signed = _signed(kind, quantity)
    place = (product.pk, location.pk)
    if idempotency_key:
        done = _replay(idempotency_key, stock_place=place, kind=kind, quantity=signed)
        if done is not None:
            return done
    try:
        return _record_one(
            place=place,
            kind=kind,
            quantity=signed,
            reference=reference,
            reason=reason,
            actor=actor,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its movement.
        if idempotency_key:
            done = _replay(idempotency_key, stock_place=place, kind=kind, quantity=signed)
            if done is not None:
                return done
        raise


@transaction.atomic(durable=True)
def _record_one(*, place, kind, quantity, reference, reason, actor, idempotency_key):
    stock = lock_stock([place])[place]
    return movement_apply(
        stock=stock,
        kind=kind,
        quantity=quantity,
        reference=reference,
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
    )


def stock_receive(
    *,
    product: Product,
    location: Location,
    quantity: int,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
) -> StockMovement:
    """Add received goods to on hand."""
    return stock_movement_record(
        product=product,
        location=location,
        kind=Kind.RECEIPT,
        quantity=quantity,
        reference=reference,
        actor=actor,
        idempotency_key=idempotency_key,
    )


def stock_adjust(
    *,
    product: Product,
    location: Location,
    quantity: int,
    reason: str,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
) -> StockMovement:
    """Correct on hand by a signed quantity, with a reason."""
    return stock_movement_record(
        product=product,
        location=location,
        kind=Kind.ADJUSTMENT,
        quantity=quantity,
        reason=reason,
        reference=reference,
        actor=actor,
        idempotency_key=idempotency_key,
    )


def stock_damage(
    *,
    product: Product,
    location: Location,
    quantity: int,
    reason: str = "",
    reference: str = "",
    actor: AbstractBaseUser | None = None,
    idempotency_key: str | None = None,
) -> StockMovement:
    """Write off damaged units (a positive quantity leaves on hand)."""
    return stock_movement_record(
        product=product,
        location=location,
        kind=Kind.DAMAGE,
        quantity=quantity,
        reason=reason,
        reference=reference,
        actor=actor,
        idempotency_key=idempotency_key,
    )


@transaction.atomic(durable=True)
def stock_transfer(
    *,
    product: Product,
    source: Location,
    destination: Location,
    quantity: int,
    reference: str = "",
    actor: AbstractBaseUser | None = None,
) -> tuple[StockMovement, StockMovement]:
    """Move units from one location to another as one operation (both sides or neither)."""
    if source.pk == destination.pk:
        raise InvalidQuantity("A transfer needs two different locations.", field="destination")
    signed_out = _signed(Kind.TRANSFER_OUT, quantity)
    out_place, in_place = (product.pk, source.pk), (product.pk, destination.pk)
    rows = lock_stock([out_place, in_place])
    operation = uuid.uuid4()
    reference = reference or f"transfer {source.code}→{destination.code}"
    out = movement_apply(
        stock=rows[out_place],
        kind=Kind.TRANSFER_OUT,
        quantity=signed_out,
        reference=reference,
        actor=actor,
        operation=operation,
    )
    into = movement_apply(
        stock=rows[in_place],
        kind=Kind.TRANSFER_IN,
        quantity=quantity,
        reference=reference,
        actor=actor,
        operation=operation,
    )
    return out, into


@transaction.atomic(durable=True)
def stock_safety_stock_set(
    *, product: Product, location: Location, safety_stock: int
) -> StockLevel:
    """Set the units held back from sale at a location."""
    if not isinstance(safety_stock, int) or safety_stock < 0:
        raise InvalidQuantity(
            "Safety stock must be a whole number, 0 or more.", field="safety_stock"
        )
    place = (product.pk, location.pk)
    stock = lock_stock([place])[place]
    stock.safety_stock = safety_stock
    stock.save(update_fields=["safety_stock", "updated_at"])
    # Safety stock is not available: low-stock alerts are evaluated after commit.
    stock_changed([stock.pk])
    return stock


BIN_MAX_LENGTH = 32


def units_write_off(
    *,
    rows: Mapping[int, StockLevel],
    units_by_stock: Mapping[int, int],
    kind: str,
    reference: str,
    reason: str,
    actor: AbstractBaseUser | None = None,
) -> int:
    """Take units found missing (`adjustment`) or damaged (`damage`) off on hand, one ledger
    line per stock row, inside the caller's transaction; `rows` are the stock rows it holds
    locked, by pk. Never below zero: a row holds at most what it has. Return the units."""
    if kind not in (Kind.ADJUSTMENT, Kind.DAMAGE):
        raise InvalidQuantity(f"'{kind}' is not a write-off.", field="kind")
    operation = uuid.uuid4()
    written = 0
    for stock_id, units in sorted(units_by_stock.items()):
        stock = rows[stock_id]
        units = min(units, stock.on_hand)
        if units <= 0:
            continue
        movement_apply(
            stock=stock,
            kind=kind,
            quantity=-units,
            reference=reference,
            reason=reason,
            actor=actor,
            operation=operation,
        )
        written += units
    return written


@transaction.atomic(durable=True)
def stock_bin_set(*, product: Product, location: Location, bin: str) -> StockLevel:
    """Say where a product sits in a location (its bin, for pick lists)."""
    bin = bin.strip()
    if len(bin) > BIN_MAX_LENGTH:
        raise InvalidQuantity("A bin is at most 32 characters.", field="bin")
    stock = lock_stock([(product.pk, location.pk)])[(product.pk, location.pk)]
    StockLevel.objects.filter(pk=stock.pk).update(bin=bin, updated_at=timezone.now())
    stock.bin = bin
    return stock
