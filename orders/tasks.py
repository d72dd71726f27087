"""Thin Celery tasks for orders."""

from celery import shared_task

from orders.services.lifecycle import backorders_allocate
from orders.services.pickup import pickup_ready_notify, pickups_expire
from orders.services.reservations import reservations_expire


@shared_task(acks_late=True)
def backorders_allocate_task(product_ids: list[int] | None = None) -> int:
    """Allocate backordered orders (those wanting these products, or all), oldest first.

    Running it twice does no harm: each order is re-checked under its lock.
    """
    return backorders_allocate(product_ids=product_ids or None)


@shared_task(acks_late=True)
def reservations_expire_task() -> int:
    """Give back the units of reservations past their time (they already count as sellable)."""
    return reservations_expire()


@shared_task(acks_late=True)
def pickups_expire_task() -> int:
    """Cancel click & collect orders not collected within their store's hold period."""
    return pickups_expire()


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def pickup_ready_notify_task(self, order_id: int) -> bool:
    """E-mail the customer that the order is ready for pickup (once; a rerun sends nothing).

    Retried on connection errors of the mail server only.
    """
    return pickup_ready_notify(order_id=order_id)
