"""Tell the order side that units became available, after commit, without importing it.

Backordered orders wait for these units; the task is sent by name so that
inventory does not depend on orders. If the broker is down the periodic
backorder sweep picks the work up: a receipt never fails for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

BACKORDERS_TASK = "orders.tasks.backorders_allocate_task"


def stock_freed(*, product_ids: Iterable[int]) -> None:
    ids = sorted(set(product_ids))
    if ids:
        transaction.on_commit(lambda: _send(ids))


def _send(product_ids: list[int]) -> None:
    try:
        current_app.send_task(
            BACKORDERS_TASK,
            args=[product_ids],
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # the broker being down must not fail a committed change
        logger.warning("could not enqueue backorder allocation for %s; the sweep will", product_ids)
