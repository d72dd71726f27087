"""Thin Celery tasks of the console: run a background job; keep the stock snapshot warm."""

from celery import shared_task


@shared_task(acks_late=True)
def console_job_run_task(job_id: int) -> None:
    """Run a bulk action or export; a second delivery finds the job claimed and does nothing."""
    from console.jobs import job_run

    job_run(job_id=job_id)


@shared_task(acks_late=True)
def stock_snapshot_refresh_task() -> None:
    """Recompute the network's stock by location for the dashboards (a full table read)."""
    from console.selectors.stock import stock_by_location_refresh

    stock_by_location_refresh()
