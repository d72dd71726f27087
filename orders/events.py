"""The order timeline: one row per change, written in the transaction of that change."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from orders.models import Order, OrderEvent


def order_event_add(
    *,
    order: Order,
    kind: str,
    message: str = "",
    data: dict | None = None,
    actor: AbstractBaseUser | None = None,
    public: bool = True,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=message,
        data=data or {},
        actor=actor if actor is not None and actor.is_authenticated else None,
        public=public,
    )
