"""Thin Celery tasks for inventory: fetch ids, call one service."""

import logging

from celery import shared_task

from inventory.reconcile import stock_reconcile

logger = logging.getLogger(__name__)


@shared_task
def stock_reconcile_task() -> int:
    """Check every stock row against its ledger and allocations; log, alert (alerts app) and
    return the drift count."""
    drift = stock_reconcile()
    for item in drift:
        logger.error("stock drift: %s", item)
    return len(drift)


# Stock count files too big to apply inside a request (the admin's background path).
# A second delivery of either task does nothing: the services claim the import's status.


@shared_task(acks_late=True)
def stock_count_import_check_task(count_import_id: int) -> None:
    """Check an uploaded count file and store its preview."""
    from inventory.services.counts import stock_count_import_check

    stock_count_import_check(count_import_id=count_import_id)


@shared_task(acks_late=True)
def stock_count_import_apply_task(count_import_id: int) -> None:
    """Apply a confirmed count file as one transaction."""
    from inventory.services.counts import stock_count_import_apply

    stock_count_import_apply(count_import_id=count_import_id)
