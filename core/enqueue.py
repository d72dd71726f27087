"""Queue a Celery task by its name once the current transaction commits.

A service that hands work to a task names it instead of importing the tasks module: the
tasks module imports the service it calls, and the import then points one way only.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def task_send(task_name: str, *args: Any, **options: Any) -> None:
    """Send `task_name` now with positional `args`; `options` go to `send_task`."""
    current_app.send_task(task_name, args=args, **options)


def task_send_after_commit(task_name: str, *args: Any) -> None:
    """Send `task_name` with `args` once the current transaction commits (at once outside
    one); nothing is sent if it rolls back."""
    transaction.on_commit(lambda: task_send(task_name, *args))
