"""Every write of the alerts app: evaluation, the lifecycle of an alert, rules, digests."""

from alerts.services.evaluate import (
    alerts_evaluate_orders,
    alerts_evaluate_stock,
    alerts_sweep,
    stock_changes_evaluate,
    stock_drift_alerts_record,
    stock_reconcile,
)
from alerts.services.lifecycle import alert_acknowledge, alert_resolve, alert_snooze
from alerts.services.rules import network_rule_set, stock_rule_save, stock_rule_set

__all__ = [
    "alert_acknowledge",
    "alert_resolve",
    "alert_snooze",
    "alerts_evaluate_orders",
    "alerts_evaluate_stock",
    "alerts_sweep",
    "network_rule_set",
    "stock_changes_evaluate",
    "stock_drift_alerts_record",
    "stock_reconcile",
    "stock_rule_save",
    "stock_rule_set",
]
