"""Real Celery workers that a test can kill and replace, on one queue of the test's own."""

from __future__ import annotations

import signal
import subprocess
import uuid
from contextlib import contextmanager

from oms.celery import app
from tests.worker import kick_markers_clear, worker_start, worker_stop  # noqa: F401 - used by the outbound tests


@contextmanager
def worker_queue():
    """Route this process's tasks to a fresh queue for the test; yield its name."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    kick_markers_clear()
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = previous


def worker_kill(process: subprocess.Popen) -> None:
    """Kill the worker at once, as a crash or an OOM kill would: no clean-up runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=20)
