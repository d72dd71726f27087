"""Thin Celery tasks of the lab."""

from celery import shared_task

from lab.services import replay_run_execute


# Given back to the queue when the worker process dies: a second delivery finds the run
# claimed under its lease and does nothing, or takes it over once the lease ran out.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def replay_run_task(run_id: int) -> None:
    """Replay a period under a policy; a second delivery finds the run claimed."""
    replay_run_execute(run_id=run_id)
