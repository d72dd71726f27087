"""Thin Celery tasks for operations."""

import logging

from celery import shared_task

from operations.retention import retention_prune

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def retention_prune_task() -> dict[str, dict[str, int]]:
    """Prune what is past its horizon; a second run finds nothing more to do."""
    pruned = retention_prune().as_dict()
    logger.info("retention: %s", pruned, extra={"pruned": pruned})
    return pruned
