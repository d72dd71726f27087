"""The one call the stock services make when a balance moves: evaluate it after commit.

It must cost next to nothing on the order capture path (bench/orders.py): no task message
per commit, only the shared marker of oms/kick.py, and at most one per transaction however
many rows it moves (a count file moves thousands through `movement_apply`).
"""

from __future__ import annotations

from django.db import transaction

from oms.kick import kick, kick_after_commit

STOCK_TASK = "alerts.tasks.alerts_stock_changed_task"
STOCK_KEY = "alerts-stock"


def stock_changed() -> None:
    """Queue the evaluation of changed stock rows once this transaction commits."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        kick(task_name=STOCK_TASK, key=STOCK_KEY)
        return
    # Django replaces its list of commit hooks on commit, rollback and savepoint rollback:
    # the same list object means our hook is registered and still due.
    if getattr(connection, "_alerts_stock_hooks", None) is connection.run_on_commit:
        return
    kick_after_commit(task_name=STOCK_TASK, key=STOCK_KEY)
    connection._alerts_stock_hooks = connection.run_on_commit
