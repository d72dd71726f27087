"""A worker host serves its Celery processes' task figures itself (a real worker, in
prometheus_client's multiprocess mode), behind the same check as /metrics."""

from __future__ import annotations

import socket

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from oms.celery import app
from tests.outbound.workers import worker_queue
from tests.worker import wait_for, worker_start, worker_stop

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
TOKEN = "worker-scrape-token"
TASK = "operations.tasks.retention_prune_task"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_worker_serves_its_task_figures(tmp_path):
    with worker_queue() as queue:
        series, refused, metrics_dir = run_one_task(queue, tmp_path)
    # then: its run and its wait are there; the database's figures are the web's to serve
    assert series[("oms_celery_task_wait_seconds_count", frozenset({"task": TASK}.items()))] == 1
    assert not any(name.startswith("oms_outbox") for name, _ in series)
    assert refused.status_code == 403
    assert any(metrics_dir.iterdir())  # the multiprocess files the scrape added up


def run_one_task(queue: str, tmp_path):
    """Start a worker with its metrics server, run one task on it, scrape it."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    worker = worker_start(
        queue,
        tmp_path / "metrics-worker.log",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        OMS_WORKER_METRICS_PORT=str(port),
        OMS_METRICS_TOKEN=TOKEN,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        # when: a task runs on it
        app.send_task(TASK)

        def ran() -> dict | None:
            answer = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert answer.status_code == 200
            series = samples(answer.text)
            key = (
                "oms_celery_task_seconds_count",
                frozenset({"task": TASK, "outcome": "success"}.items()),
            )
            return series if series.get(key) == 1 else None

        series = wait_for(ran, timeout=30)
        refused = requests.get(url, timeout=5)
    finally:
        worker_stop(worker)
    return series, refused, metrics_dir
