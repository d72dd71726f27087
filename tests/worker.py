"""A real Celery worker process for end-to-end tests.

It runs the project's settings against the test database (a file, for SQLite)
and the configured broker (Redis in CI, the filesystem transport locally), on
a queue of its own so parallel runs never take each other's tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from connectors.services.inbound import APPLY_KEY
from connectors.services.outbound import PUSH_KEY
from core.kick import kick_clear
from inventory.moved import STOCK_KEY
from oms.celery import app
from outbox.emit import RELAY_KEY

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the worker needs a file database (see DATABASES TEST NAME)")
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def kick_markers_clear() -> None:
    """Forget the "a run is queued" markers (core.kick) of the tasks a test worker runs.

    Tasks are routed to a fresh queue per test: a marker left by an earlier commit (another
    test's, or this test's own setup before its worker started) stands for a message sent
    to a queue no worker of this test reads, and would keep the commits under test from
    queueing their run for up to the marker's lifetime.
    """
    for key in (RELAY_KEY, STOCK_KEY, PUSH_KEY, APPLY_KEY):
        kick_clear(key)


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Start a worker on a fresh queue; route this process's tasks to it; stop it after."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    kick_markers_clear()
    process = None
    try:
        process = worker_start(queue, tmp_path / "worker.log")
        yield process
    finally:
        app.conf.task_default_queue = previous
        if process is not None:
            worker_stop(process)


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


def worker_stop(process: subprocess.Popen) -> None:
    """Stop the worker as a deployment would (SIGTERM), killing it if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll `condition()` until it returns something true; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
