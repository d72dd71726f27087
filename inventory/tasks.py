"""Thin Celery tasks for inventory: fetch ids, call one service."""

import logging

from celery import shared_task

from inventory.reconcile import stock_drift

logger = logging.getLogger(__name__)


@shared_task
def stock_reconcile_task() -> int:
    """Check every stock row against its ledger and allocations; log and return the drift count."""
    drift = stock_drift()
    for item in drift:
        logger.error("stock drift: %s", item)
    return len(drift)
