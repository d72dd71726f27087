"""A channel changes an order it sent: fewer units, another address.

Storefronts send the whole order again when it changes (an edit, a new address). Before
fulfilment starts the OMS applies what it can do safely: units taken off lines (their
stock goes back) and a new shipping address. Anything else (units added, a new SKU, or
any change once a location has accepted, staged or shipped part of the order) is not
applied but flagged to customer service with what changed, so that a person decides:
nothing is half-applied.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from fulfilment.models import Fulfilment
from orders.events import order_event_add
from orders.inputs import LineInput
from orders.locks import lock_order
from orders.models import Order, OrderEvent, OrderLine
from orders.services.lifecycle import _close_emptied_fulfilments, _line_units_cancel
from orders.services.status import order_status_refresh

S = Order.Status
# Before any location has taken the work on: what a change may still touch.
CHANGEABLE = {S.PENDING, S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED}
ADDRESS_FIELDS = ("line1", "line2", "city", "postcode", "country")


@dataclass(frozen=True)
class Amended:
    """What became of a change: `unchanged`, `applied`, or `flagged` (to customer service);
    `note` says what changed, for a person."""

    outcome: str
    note: str = ""


@transaction.atomic(durable=True)
def order_amend(
    *,
    order: Order,
    lines: list[LineInput],
    address: dict,
    actor: AbstractBaseUser | None = None,
    source: str = "the channel",
) -> Amended:
    """Make the order what the channel now sends, where it still can; else flag it."""
    order = lock_order(order.pk)
    current = list(
        order.lines.select_for_update(of=("self",)).select_related("product").order_by("line_no")
    )
    have: dict[int, int] = defaultdict(int)
    for line in current:
        have[line.product_id] += line.quantity_open
    want: dict[int, int] = defaultdict(int)
    skus = {line.product.pk: line.product.sku for line in lines}
    skus.update({line.product_id: line.product.sku for line in current})
    for wanted in lines:
        want[wanted.product.pk] += wanted.quantity
    fewer = {pk: have[pk] - want.get(pk, 0) for pk in have if want.get(pk, 0) < have[pk]}
    more = {pk: units - have.get(pk, 0) for pk, units in want.items() if units > have.get(pk, 0)}
    new_address = _address_changes(order, address)
    if not fewer and not more and not new_address:
        return Amended("unchanged")
    note = _describe(fewer, more, new_address, skus)
    if order.status == S.CANCELLED:
        return Amended("unchanged", f"Order {order.number} is cancelled; {note}")
    started = order.fulfilments.exclude(
        status__in=[
            Fulfilment.Status.REQUESTED,
            Fulfilment.Status.REJECTED,
            Fulfilment.Status.CANCELLED,
        ]
    ).exists()
    why = ""
    if order.status not in CHANGEABLE or started:
        why = "a location has already taken the order on"
    elif more:
        why = "units cannot be added to an order once placed"
    if why:
        reason = f"Changed by {source} but not applied ({why}): {note}"
        _flag(order, reason, actor)
        return Amended("flagged", reason)
    if new_address:
        _address_apply(order, address)
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            message=f"Shipping address changed by {source}.",
            data={"address": {key: address.get(key, "") for key in ADDRESS_FIELDS}},
            actor=actor,
            public=False,
        )
    for product_id, units in fewer.items():
        _units_off(order, current, product_id, units, actor, f"changed by {source}")
    if fewer:
        _close_emptied_fulfilments(order, f"changed by {source}")
        order_status_refresh(order=order, actor=actor)
    return Amended("applied", note)


@transaction.atomic(durable=True)
def order_flag(*, order: Order, reason: str, actor: AbstractBaseUser | None = None) -> Order:
    """Send the order to customer service's queue, saying why."""
    order = lock_order(order.pk)
    _flag(order, reason, actor)
    return order


def _flag(order: Order, reason: str, actor) -> None:
    order.needs_attention = True
    order.attention_reason = reason[:255]
    order.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.NEEDS_ATTENTION,
        message=reason,
        actor=actor,
        public=False,
    )


def _address_changes(order: Order, address: dict) -> dict[str, str]:
    if not address:
        return {}
    now = {
        "line1": order.ship_line1,
        "line2": order.ship_line2,
        "city": order.ship_city,
        "postcode": order.ship_postcode,
        "country": order.ship_country,
    }
    sent = {key: str(address.get(key) or "").strip() for key in ADDRESS_FIELDS}
    sent["country"] = sent["country"].upper()
    return {key: value for key, value in sent.items() if value != now[key]}


def _address_apply(order: Order, address: dict) -> None:
    order.ship_line1 = address.get("line1", "")
    order.ship_line2 = address.get("line2") or ""
    order.ship_city = address.get("city", "")
    order.ship_postcode = address.get("postcode", "")
    order.ship_country = (address.get("country") or "").upper()
    order.ship_lat = address.get("lat")
    order.ship_lon = address.get("lon")
    order.ship_placed_by = address.get("placed_by") or (
        "given" if order.ship_lat is not None else ""
    )
    order.save(
        update_fields=[
            "ship_line1",
            "ship_line2",
            "ship_city",
            "ship_postcode",
            "ship_country",
            "ship_lat",
            "ship_lon",
            "ship_placed_by",
            "updated_at",
        ]
    )


def _units_off(
    order: Order, lines: list[OrderLine], product_id: int, units: int, actor, reason: str
) -> None:
    # The last lines of the product give their units first.
    for line in reversed(lines):
        if units <= 0:
            break
        if line.product_id != product_id:
            continue
        cancellable = line.quantity_open - line.quantity_shipped
        take = min(units, cancellable)
        if take > 0:
            _line_units_cancel(order=order, line=line, units=take, actor=actor, reason=reason)
            units -= take


def _describe(
    fewer: dict[int, int], more: dict[int, int], address: dict[str, str], skus: dict[int, str]
) -> str:
    parts = [f"{units} × {skus[pk]} fewer" for pk, units in fewer.items()]
    parts += [f"{units} × {skus[pk]} more" for pk, units in more.items()]
    if address:
        parts.append("shipping address " + ", ".join(f"{k} → {v!r}" for k, v in address.items()))
    return "; ".join(parts) + "."
