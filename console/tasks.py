"""Thin Celery tasks of the console: run a background job; keep the stock snapshot warm."""

from celery import shared_task

from console.jobs import job_run, jobs_sweep
from console.selectors.stock import stock_by_location_refresh


# Given back to the queue when the worker process dies: a second delivery finds the job
# claimed under its lease and does nothing, or takes it over once the lease ran out.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def console_job_run_task(job_id: int) -> None:
    """Run a bulk action or export; a second delivery finds the job claimed and does nothing."""
    job_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def console_jobs_sweep_task() -> None:
    """Restart or fail the jobs whose worker died; resend lost tasks."""
    jobs_sweep()


@shared_task(acks_late=True)
def stock_snapshot_refresh_task() -> None:
    """Recompute the network's stock by location for the dashboards (a full table read)."""
    stock_by_location_refresh()
