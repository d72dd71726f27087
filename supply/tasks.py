"""Thin Celery tasks for supply: fetch ids, call one service."""

from celery import shared_task

from supply.services.replenishment import replenishment_run


@shared_task(acks_late=True, reject_on_worker_lost=True)
def replenishment_run_task(run_id: int) -> None:
    """Work out a queued replenishment run. Safe to deliver twice: a run that is no longer
    queued is left as it is."""
    replenishment_run(run_id=run_id)
