"""Real Celery workers that a test can kill and replace, on one queue of the test's own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from oms.celery import app
from tests.worker import ROOT, _database_url


@contextmanager
def worker_queue():
    """Route this process's tasks to a fresh queue for the test; yield its name."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        app.conf.task_default_queue = previous


def worker_start(queue: str, log: Path, **env: str) -> subprocess.Popen:
    """Start a worker on `queue` (extra settings through `env`) and wait until it is ready."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.test_settings",
        "DATABASE_URL": _database_url(),
        "CELERY_QUEUE": queue,
        "OMS_TEST_COORDINATION": settings.OMS_TEST_COORDINATION,
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "oms",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def worker_kill(process: subprocess.Popen) -> None:
    """Kill the worker at once, as a crash or an OOM kill would: no clean-up runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=20)


def worker_stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
