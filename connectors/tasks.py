"""Thin Celery tasks of the connectors, each calling one service: send what storefronts
are owed, push all stock, reconcile their orders, turn stored webhooks into orders and finish those
cut off. Running one twice
does no harm."""

from __future__ import annotations

from celery import shared_task

from connectors.models import Connector
from connectors.services.inbound import (
    APPLY_KEY,
    APPLY_TASK,
    storefront_orders_apply_due,
    storefront_orders_resume,
)
from connectors.services.outbound import PUSH_KEY, PUSH_TASK, connectors_push_due, stock_push_all
from connectors.services.reconcile import connector_reconcile
from core.kick import kick, kick_clear

# A run hands over to a fresh one after this long (as the outbox relay does).
RUN_BUDGET_SECONDS = 60.0


@shared_task(acks_late=True)
def connectors_push_task() -> dict:
    """Send the shipments and stock figures due to every storefront.

    Kicked when the relay's reader marks work, and run by beat every 30 seconds for
    retries that fell due. Two runs at once do no harm: rows are claimed before they
    are sent.
    """
    kick_clear(PUSH_KEY)  # before reading: work marked after this point queues another run
    done = connectors_push_due(budget_seconds=RUN_BUDGET_SECONDS)
    if done["more"]:
        kick(task_name=PUSH_TASK, key=PUSH_KEY)
    return done


@shared_task(acks_late=True)
def connectors_stock_push_all_task() -> int:
    """Nightly: every active storefront gets every SKU's figure again."""
    marked = 0
    for connector in Connector.objects.filter(active=True):
        marked += stock_push_all(connector=connector)
    return marked


@shared_task(acks_late=True)
def connectors_reconcile_task() -> dict:
    """Every few minutes: each active storefront's orders updated since the last sync go
    through the inbound path, catching a webhook it never sent."""
    done = {}
    for connector in Connector.objects.filter(active=True).select_related("channel"):
        result = connector_reconcile(connector=connector)
        done[connector.channel.code] = {"read": result.read, "applied": result.applied}
    return done


@shared_task(acks_late=True)
def storefront_orders_resume_task() -> int:
    """Finish the storefront webhooks whose first run was cut off (beat, every few minutes)."""
    return storefront_orders_resume()


@shared_task(acks_late=True)
def storefront_orders_apply_task() -> int:
    """Turn the storefront webhooks stored by the web requests into orders.

    Kicked after each webhook's commit; a run applies every body waiting, so a burst of
    webhooks costs a few runs. Two runs at once apply different bodies (claimed first).
    """
    kick_clear(APPLY_KEY)  # before reading: a body stored after this point queues another run
    done = storefront_orders_apply_due(budget_seconds=RUN_BUDGET_SECONDS)
    if done.more:
        kick(task_name=APPLY_TASK, key=APPLY_KEY)
    return done.applied
