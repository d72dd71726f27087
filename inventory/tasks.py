"""Thin Celery tasks for inventory: fetch ids, call one service."""

from celery import shared_task

from inventory.services.counts import stock_count_import_apply, stock_count_import_check

# Stock count files too big to apply inside a request (the admin's background path).
# A second delivery of either task does nothing: the services claim the import's status.


@shared_task(acks_late=True)
def stock_count_import_check_task(count_import_id: int) -> None:
    """Check an uploaded count file and store its preview."""
    stock_count_import_check(count_import_id=count_import_id)


@shared_task(acks_late=True)
def stock_count_import_apply_task(count_import_id: int) -> None:
    """Apply a confirmed count file as one transaction."""
    stock_count_import_apply(count_import_id=count_import_id)
