"""Thin Celery tasks of the outbox: the relay."""

from __future__ import annotations

from celery import shared_task

from core.kick import kick, kick_clear
from outbox.emit import RELAY_KEY, RELAY_TASK
from outbox.producers import producers_run
from outbox.relay import outbox_relay

# A run hands over to a fresh one after this long, so that one busy stream of events does
# not hold a worker forever and a deploy's restart loses at most one run's claims.
RUN_BUDGET_SECONDS = 60.0


@shared_task(acks_late=True)
def outbox_relay_task() -> dict:
    """Run the batch producers (stock.changed from the ledger), then fan out and send what is
    due.

    Kicked after commits and run by beat every 30 seconds. Runs at once or twice do no harm:
    deliveries are claimed before they are sent, and a killed run's claims run out.
    """
    kick_clear(RELAY_KEY)  # before reading: a commit after this point queues another run
    producers_run()
    done = outbox_relay(budget_seconds=RUN_BUDGET_SECONDS)
    if done.budget_spent:
        kick(task_name=RELAY_TASK, key=RELAY_KEY)
    return done.as_dict()
