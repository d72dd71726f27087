"""Thin Celery tasks for operations."""

import logging

from celery import shared_task

from operations.retention import retention_prune

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def retention_prune_task() -> dict[str, dict[str, int]]:
    """Prune what is past its horizon; a second run finds nothing more to do."""
    result = retention_prune()
    pruned = result.as_dict()
    longest = round(result.longest_batch_seconds(), 3)
    logger.info(
        "retention: %s; longest batch %s s",
        pruned,
        longest,
        extra={"pruned": pruned, "longest_batch_seconds": longest},
    )
    return pruned
