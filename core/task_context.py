"""Carry the request id into Celery tasks, and time each task.

A task sent while a request (or another task) runs gets the current request id and the
time it was sent in its message headers; the worker binds the id while the task runs, so
its log lines carry it, and measures how long the task waited and ran. Connected once, by
the Celery app (oms/celery.py).
"""

from __future__ import annotations

import time
from contextvars import Token
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun

from core import request_id
from core.metrics import task_seconds, task_wait_seconds

REQUEST_ID_HEADER = "oms_request_id"
SENT_AT_HEADER = "oms_sent_at"

# Task id -> (request id token, start time) of the tasks running in this process.
_running: dict[str, tuple[Token[str], float]] = {}


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    rid = request_id.current()
    if rid and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = rid
    headers.setdefault(SENT_AT_HEADER, time.time())


def _on_prerun(task_id: str = "", task: Task[Any, Any] | None = None, **_: Any) -> None:
    if task is None:
        return
    # A task run in the sending process (eager, or called directly) keeps the id it has.
    rid = getattr(task.request, REQUEST_ID_HEADER, None) or request_id.current() or request_id.new()
    sent_at = getattr(task.request, SENT_AT_HEADER, None)
    if isinstance(sent_at, int | float):
        task_wait_seconds.labels(task.name).observe(max(0.0, time.time() - sent_at))
    _running[task_id] = (request_id.bind(str(rid)), time.perf_counter())


def _on_postrun(
    task_id: str = "", task: Task[Any, Any] | None = None, state: str | None = None, **_: Any
) -> None:
    entry = _running.pop(task_id, None)
    if entry is None or task is None:
        return
    token, started = entry
    task_seconds.labels(task.name, (state or "unknown").lower()).observe(
        time.perf_counter() - started
    )
    request_id.unbind(token)


def connect() -> None:
    """Connect the signal handlers (idempotent: Celery keeps one per receiver)."""
    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="oms-request-id-publish")
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="oms-request-id-prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="oms-request-id-postrun")
