"""Thin Celery tasks for orders."""

from celery import shared_task

from oms.api.idempotency import idempotency_records_purge
from orders.services.lifecycle import backorders_allocate


@shared_task(acks_late=True)
def backorders_allocate_task(product_ids: list[int] | None = None) -> int:
    """Allocate backordered orders (those wanting these products, or all), oldest first.

    Running it twice does no harm: each order is re-checked under its lock.
    """
    return backorders_allocate(product_ids=product_ids or None)


@shared_task
def idempotency_records_purge_task() -> int:
    """Delete stored Idempotency-Key answers past their time to live."""
    return idempotency_records_purge()
