"""Set the thresholds: one rule per product and location, product, location, or globally."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from alerts.exceptions import InvalidRule
from alerts.models import (
    NetworkRule,
    StockRule,
    channel_scope_of,
    scope_of,
)
from core.enqueue import task_send
from inventory.models import Location, Product
from orders.models import Channel

logger = logging.getLogger(__name__)
# Named, not imported: the tasks module imports this one.
RULE_TASK = "alerts.tasks.alerts_rule_changed_task"
UNSET = object()


def _check(value, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRule(
            f"{name.replace('_', ' ').capitalize()} must be a whole number, 0 or more.", field=name
        )


def stock_rule_set(
    *,
    product: Product | None,
    location: Location | None,
    threshold: int | None,
    lead_time_days=UNSET,
) -> tuple[StockRule, bool]:
    """Create or replace the rule for this product and location (either may be None for a
    default); return it and whether it was created. The rows it governs are evaluated again
    after commit."""
    _check(threshold, "threshold")
    if lead_time_days is not UNSET:
        _check(lead_time_days, "lead_time_days")
    try:
        rule, created = _stock_rule_write(
            product=product, location=location, threshold=threshold, lead_time_days=lead_time_days
        )
    except IntegrityError:
        # A concurrent first write of the same rule committed first: replace its figures.
        rule, created = _stock_rule_write(
            product=product, location=location, threshold=threshold, lead_time_days=lead_time_days
        )
    return rule, created


@transaction.atomic(durable=True)
def _stock_rule_write(*, product, location, threshold, lead_time_days):
    scope = scope_of(
        product_id=product.pk if product else None, location_id=location.pk if location else None
    )
    defaults = {"threshold": threshold}
    if lead_time_days is not UNSET:
        defaults["lead_time_days"] = lead_time_days
    rule, created = StockRule.objects.select_for_update().update_or_create(
        scope=scope, product=product, location=location, defaults=defaults
    )
    _evaluate_after_commit(
        product_id=product.pk if product else None, location_id=location.pk if location else None
    )
    return rule, created


@transaction.atomic
def stock_rule_save(*, rule: StockRule) -> StockRule:
    """Save a rule built elsewhere (a row of an imported file), its scope from its fields,
    and evaluate the rows it governs after commit. Joins the caller's transaction: an
    import applies all its rows or none."""
    _check(rule.threshold, "threshold")
    _check(rule.lead_time_days, "lead_time_days")
    rule.scope = scope_of(product_id=rule.product_id, location_id=rule.location_id)
    rule.save()
    _evaluate_after_commit(product_id=rule.product_id, location_id=rule.location_id)
    return rule


@transaction.atomic
def network_rule_save(*, rule: NetworkRule) -> NetworkRule:
    """Save a network rule edited in the admin, its scope from its fields (joins the
    caller's transaction)."""
    _check(rule.threshold, "threshold")
    rule.scope = channel_scope_of(product_id=rule.product_id, channel_id=rule.channel_id)
    rule.save()
    _evaluate_after_commit(product_id=rule.product_id, location_id=None)
    return rule


@transaction.atomic(durable=True)
def network_rule_set(
    *, product: Product | None, channel: Channel | None, threshold: int
) -> tuple[NetworkRule, bool]:
    """Create or replace the network threshold of a product (or default), whole network or
    one channel."""
    _check(threshold, "threshold")
    scope = channel_scope_of(
        product_id=product.pk if product else None, channel_id=channel.pk if channel else None
    )
    rule, created = NetworkRule.objects.select_for_update().update_or_create(
        scope=scope, product=product, channel=channel, defaults={"threshold": threshold}
    )
    _evaluate_after_commit(product_id=product.pk if product else None, location_id=None)
    return rule, created


def _evaluate_after_commit(*, product_id: int | None, location_id: int | None) -> None:
    transaction.on_commit(lambda: _send(RULE_TASK, product_id=product_id, location_id=location_id))


def _send(task_name: str, **kwargs) -> None:
    try:
        task_send(
            task_name,
            kwargs=kwargs,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # a broker outage must not fail a saved rule
        logger.warning("could not queue a rule evaluation; the sweep will")
