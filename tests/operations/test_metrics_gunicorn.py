"""/metrics under gunicorn with several workers: whichever worker answers the scrape, it
counts every worker's requests (prometheus_client's multiprocess mode)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.core.appserver import app_server_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TOKEN = "gunicorn-scrape-token"


def healthz_count(url: str) -> float:
    answer = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "oms_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/healthz",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_every_worker_s_requests_are_counted_whichever_worker_is_scraped(tmp_path):
    # given: two gunicorn workers sharing a metrics folder
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    server = app_server_start(
        tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), OMS_METRICS_TOKEN=TOKEN
    )
    try:
        before = healthz_count(server.url)  # the start-up wait's own /healthz calls
        # when: 40 requests, 8 at a time, so that both workers answer some
        with ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(
                    lambda _: requests.get(f"{server.url}/healthz", timeout=30).status_code,
                    range(40),
                )
            )
        # then: every scrape, whichever worker takes it, counts all 40
        counts = {healthz_count(server.url) - before for _ in range(6)}
    finally:
        server.stop()
    assert codes == [200] * 40
    assert counts == {40.0}
    workers_files = {p.name for p in metrics_dir.iterdir() if p.name.startswith("counter_")}
    assert len(workers_files) >= 2, workers_files
