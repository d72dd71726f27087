"""Exchanges: the new order a return places, on the return's channel, for the customer.

It is placed as soon as the return is made, after the return's own transaction (order
capture is a durable transaction of its own), with the return number as its external id:
placing it again finds the same order, so a retried request never makes two.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser

from core.exceptions import ConflictError
from orders.inputs import LineInput, OrderInput
from orders.models import Channel, Order
from orders.services.capture import order_input_check, order_place
from orders.services.lifecycle import order_cancel, order_note_add, order_release_within
from returns.inputs import ExchangeLineInput
from returns.models import Return


def exchange_input(*, order: Order, number: str, lines: Sequence[ExchangeLineInput]) -> OrderInput:
    """Return the exchange order's input: the original order's customer, address and
    delivery, the exchange lines at no charge (the customer paid for the returned units);
    held until the return is received when the channel ships exchanges then."""
    held_for = ""
    if order.channel.exchange_shipping == Channel.ExchangeShipping.WHEN_RECEIVED:
        held_for = f"exchange for return {number}: ships once the return is received"
    return OrderInput(
        channel=order.channel,
        lines=[LineInput(product=line.product, quantity=line.quantity) for line in lines],
        external_id=number,
        email=order.customer_email,
        name=order.customer_name,
        phone=order.customer_phone,
        address={
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
            "lat": order.ship_lat,
            "lon": order.ship_lon,
        },
        delivery_method=order.delivery_method,
        pickup_location=order.pickup_location,
        currency=order.currency,
        held_for=held_for,
    )


def exchange_check(*, order: Order, lines: Sequence[ExchangeLineInput]) -> None:
    """Refuse, before the return is written, an exchange order the network cannot take."""
    order_input_check(exchange_input(order=order, number="check", lines=lines))


def exchange_place(
    *, ret: Return, lines: Sequence[ExchangeLineInput], actor: AbstractBaseUser | None
) -> Order:
    """Place the exchange order and link it to the return."""
    order = Order.objects.select_related("channel", "pickup_location").get(pk=ret.order_id)
    exchange, _ = order_place(
        data=exchange_input(order=order, number=ret.number, lines=lines), actor=actor
    )
    Return.objects.filter(pk=ret.pk, exchange_order__isnull=True).update(exchange_order=exchange)
    return exchange


def exchange_release_within(
    *, number: str, exchange_order_id: int, actor: AbstractBaseUser | None
) -> None:
    """Let the exchange order of return `number`, now received in full, ship if it was held
    for it (inside the receipt's transaction: the release commits with the units)."""
    order_release_within(
        order_id=exchange_order_id,
        message=f"Return {number} received: the exchange may ship.",
        actor=actor,
    )


def exchange_cancel(*, ret: Return, actor: AbstractBaseUser | None) -> None:
    """Cancel the exchange order of a cancelled return, unless it has shipped (then it stays,
    and its timeline says why)."""
    exchange = ret.exchange_order
    if exchange is None:
        return
    try:
        order_cancel(order=exchange, actor=actor, reason=f"return {ret.number} cancelled")
    except ConflictError:
        order_note_add(
            order=exchange,
            text=f"Return {ret.number} was cancelled after this exchange order shipped.",
            actor=actor,
        )
