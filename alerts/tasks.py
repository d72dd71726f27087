"""Thin Celery tasks for alerts: each calls one service; running one twice does no harm."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from alerts.digest import alerts_digests_send
from alerts.evaluation.stock import StockScope
from alerts.services import (
    alerts_evaluate_stock,
    alerts_sweep,
    stock_changes_evaluate,
    stock_reconcile,
)
from core.kick import kick_clear
from inventory.moved import STOCK_KEY

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def alerts_stock_changed_task() -> int:
    """Evaluate the stock rows changed since the last run; return the alerts opened.

    The stock services kick it after commit (inventory.moved): one run serves many commits.
    """
    # Before reading: a commit landing after this line queues the next run (core/kick.py).
    kick_clear(STOCK_KEY)
    results = stock_changes_evaluate(now=timezone.now())
    return sum(len(applied.opened) for applied in results.values())


STOCK_TASK = alerts_stock_changed_task.name


@shared_task(acks_late=True)
def alerts_rule_changed_task(product_id: int | None = None, location_id: int | None = None) -> int:
    """Evaluate the stock rows a rule edit governs (all of them for a global rule)."""
    where, params = [], []
    if product_id is not None:
        where.append("s.product_id = %s")
        params.append(product_id)
    if location_id is not None:
        where.append("s.location_id = %s")
        params.append(location_id)
    scope = StockScope(" AND ".join(where) or None, params)
    results = alerts_evaluate_stock(scope=scope)
    return sum(len(applied.opened) for applied in results.values())


@shared_task(acks_late=True)
def alerts_sweep_task() -> int:
    """Evaluate every rule over everything: what an event missed, and the time-based rules."""
    results = alerts_sweep()
    return sum(len(applied.opened) for applied in results.values())


@shared_task(acks_late=True)
def alerts_digests_send_task() -> int:
    """E-mail each person the alerts opened since their last e-mail, at most once an interval."""
    return alerts_digests_send()


@shared_task
def stock_reconcile_task() -> int:
    """Check every stock row against its ledger and allocations; log, alert and return the
    drift count."""
    drift = stock_reconcile()
    for item in drift:
        logger.error("stock drift: %s", item)
    return len(drift)
