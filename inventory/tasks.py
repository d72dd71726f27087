"""Thin Celery tasks for inventory: fetch ids, call one service."""

from celery import shared_task

from inventory.services.counts import (
    stock_count_import_apply,
    stock_count_import_check,
    stock_count_imports_sweep,
)

# Stock count files too big to apply inside a request (the admin's background path).
# Both are safe to repeat: the services claim the import under a lease, a second delivery
# while a run holds it does nothing, and the apply commits once. So a task is acknowledged
# only when it ends (acks_late) and given back to the queue when its worker process dies
# (reject_on_worker_lost); stock_count_imports_sweep_task restarts what no delivery brings
# back in time.


@shared_task(acks_late=True, reject_on_worker_lost=True)
def stock_count_import_check_task(count_import_id: int) -> None:
    """Check an uploaded count file and store its preview."""
    stock_count_import_check(count_import_id=count_import_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def stock_count_import_apply_task(count_import_id: int) -> None:
    """Apply a confirmed count file as one transaction."""
    stock_count_import_apply(count_import_id=count_import_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def stock_count_imports_sweep_task() -> None:
    """Restart or fail the count imports whose worker died; resend lost tasks."""
    stock_count_imports_sweep()
