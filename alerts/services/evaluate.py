"""Run the rules: each kind in a transaction of its own, set-based (alerts.evaluation).

Stock is evaluated when it moves (`stock_changes_evaluate`, from the task the stock
services kick after commit) and by the periodic sweep; orders and webhooks by the sweep.
A new low-stock alert writes the `stock.low` outbound event in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alerts.badge import badge_forget
from alerts.evaluation import drift as drift_rule
from alerts.evaluation import orders as order_rules
from alerts.evaluation import returns as return_rules
from alerts.evaluation import stock as stock_rules
from alerts.evaluation import webhooks as webhook_rules
from alerts.evaluation.engine import Applied, Hits, hits_apply
from alerts.evaluation.sql import ids_in, when
from alerts.evaluation.stock import EVERYTHING, StockScope
from alerts.models import Alert, AlertPolicy, NetworkRule, Watermark
from alerts.notify import low_stock_events_emit
from inventory.moved import Changed, changed_pop, changed_restore, shared_set
from inventory.reconcile import Drift, stock_drift

STOCK_MARK = "stock"
# A change stamped before the previous run began may commit after it read: read again this
# far back. Evaluating a row twice is harmless; the periodic sweep covers longer stragglers.
STOCK_OVERLAP = timedelta(seconds=30)


@transaction.atomic(durable=True)
def _apply(hits: Hits, *, now: datetime, policy: AlertPolicy) -> Applied:
    applied = hits_apply(hits, now=now, quiet=timedelta(minutes=policy.reopen_quiet_minutes))
    if applied.opened or applied.reopened or applied.resolved:
        badge_forget()
    if hits.kind == Alert.Kind.LOW_STOCK and applied.opened:
        low_stock_events_emit(alert_ids=applied.opened)
    return applied


def alerts_evaluate_stock(
    *, scope: StockScope = EVERYTHING, now: datetime | None = None
) -> dict[str, Applied]:
    """Evaluate low stock, days of cover and network totals for the rows in `scope`."""
    now = now or timezone.now()
    policy = AlertPolicy.current()
    since = now - timedelta(days=policy.velocity_window_days)
    results = {}
    for hits in (
        stock_rules.low_stock(scope),
        stock_rules.days_of_cover(policy, since=when(since), scope=scope),
        _network(scope),
    ):
        results[hits.kind] = _apply(hits, now=now, policy=policy)
    return results


def _network(scope: StockScope) -> Hits:
    if NetworkRule.objects.exists():
        return stock_rules.network_low_stock(scope)
    # No rule: nothing can be low; the empty set resolves what is left from removed rules.
    return Hits(kind=Alert.Kind.NETWORK_LOW_STOCK, rows=[])


def alerts_evaluate_orders(*, now: datetime | None = None) -> dict[str, Applied]:
    """Evaluate fulfilments waiting for acceptance, late orders, old backorders, dead webhooks,
    returns waiting to be received or refunded, products returned often."""
    now = now or timezone.now()
    policy = AlertPolicy.current()
    results = {}
    for hits in (
        order_rules.unaccepted_fulfilments(policy, now=now),
        order_rules.late_orders(policy, now=now),
        order_rules.backorders(policy, now=now),
        webhook_rules.webhooks_dead(now=now),
        return_rules.returns_not_received(policy, now=now),
        return_rules.returns_not_refunded(policy, now=now),
        return_rules.return_rates(policy, now=now),
    ):
        results[hits.kind] = _apply(hits, now=now, policy=policy)
    return results


def alerts_sweep(*, now: datetime | None = None) -> dict[str, Applied]:
    """Evaluate every rule over everything (drift aside: `stock_reconcile` reports it)."""
    now = now or timezone.now()
    return {**alerts_evaluate_stock(now=now), **alerts_evaluate_orders(now=now)}


def stock_changes_evaluate(*, now: datetime | None = None) -> dict[str, Applied]:
    """Evaluate the stock rows that moved since the last run (see inventory.moved).

    With Redis, the rows the stock services named, popped from the shared set; embedded,
    the rows whose `updated_at` passed the watermark.
    """
    now = now or timezone.now()
    if not shared_set():
        return _changes_since_watermark(now)
    changed = changed_pop()
    if not changed:
        return {}
    try:
        return alerts_evaluate_stock(scope=_scope_of(changed), now=now)
    except BaseException:
        # Not evaluated: the next run (or the sweep) must still see these rows.
        changed_restore(changed)
        raise


def _scope_of(changed: Changed) -> StockScope:
    if changed.every_row:
        return EVERYTHING
    parts, params = [], []
    for column, ids in (("s.id", changed.stock_ids), ("s.location_id", changed.location_ids)):
        if ids:
            sql, values = ids_in(column, sorted(ids))
            parts.append(sql)
            params += values
    return StockScope(" OR ".join(parts), params)


def _changes_since_watermark(now: datetime) -> dict[str, Applied]:
    mark = Watermark.objects.filter(name=STOCK_MARK).first()
    if mark is None:
        # First run: everything, once.
        results = alerts_evaluate_stock(now=now)
    else:
        scope = StockScope("s.updated_at >= %s", [when(mark.at - STOCK_OVERLAP)])
        results = alerts_evaluate_stock(scope=scope, now=now)
    Watermark.objects.update_or_create(name=STOCK_MARK, defaults={"at": now})
    return results


def stock_drift_alerts_record(*, drift: Iterable, now: datetime | None = None) -> Applied:
    """Open an alert per drifting balance that `stock_reconcile` found; resolve the others."""
    now = now or timezone.now()
    return _apply(drift_rule.stock_drift(drift), now=now, policy=AlertPolicy.current())


def stock_reconcile() -> list[Drift]:
    """Return the drift `stock_drift` finds, and keep one alert open per drifting balance
    (resolving those that agree again): people see it in the alerts, not only in a log."""
    drift = stock_drift()
    stock_drift_alerts_record(drift=drift)
    return drift
