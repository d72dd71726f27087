"""Thin Celery tasks for connectors: each calls one service; running one twice does no harm."""

from __future__ import annotations

from celery import shared_task

from connectors.services.inbound import storefront_orders_resume


@shared_task(acks_late=True)
def storefront_orders_resume_task() -> int:
    """Finish the storefront webhooks whose first run was cut off (beat, every few minutes)."""
    return storefront_orders_resume()
