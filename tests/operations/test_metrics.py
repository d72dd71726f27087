"""/metrics: protected, and its series move with what happens (orders, outbox, alerts, queue)."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from alerts.models import Alert
from oms.celery import app
from outbox.models import Delivery, OutboxEvent
from tests.orders.helpers import product, stocked, warehouse
from tests.outbound.helpers import subscribed
from tests.outbound.test_worker import order_payload

TOKEN = "scrape-token-0123456789"
pytestmark = pytest.mark.django_db


@pytest.fixture
def scrape(client, settings):
    """Read /metrics as Prometheus would, with the token; return {(name, labels): value}."""
    settings.OMS_METRICS_TOKEN = TOKEN

    def read() -> dict[tuple[str, frozenset], float]:
        answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert answer.status_code == 200, answer.content
        assert answer["Content-Type"].startswith("text/plain")
        series = {}
        for family in text_string_to_metric_families(answer.content.decode()):
            for sample in family.samples:
                series[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return series

    return read


def value(series: dict, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


def test_it_refuses_a_scrape_when_nothing_is_configured(client, settings):
    settings.OMS_METRICS_TOKEN = ""
    settings.OMS_METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_it_refuses_a_scrape_without_the_right_token(client, settings):
    settings.OMS_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert b"oms_http_requests_total" in answer.content


def test_it_lets_allowed_addresses_scrape(client, settings):
    settings.OMS_METRICS_TOKEN = ""
    settings.OMS_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 403
    # With a token as well, both must hold.
    settings.OMS_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200


def test_it_answers_only_get(client, settings):
    settings.OMS_METRICS_TOKEN = TOKEN
    answer = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 405


def test_domain_series_move_when_orders_are_captured(api, scrape):
    # given: stock, a subscriber, and the figures before
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 1)
    subscribed("https://hooks.example.com/oms", events=["order.created"])
    before = scrape()

    # when: two orders arrive through the API; the second finds no stock left
    first = api.post("/api/v1/orders/", order_payload("M-1"), format="json")
    second = api.post("/api/v1/orders/", order_payload("M-2"), format="json")
    again = api.post("/api/v1/orders/", order_payload("M-1"), format="json")  # a replay
    after = scrape()

    # then: each capture counts once, by channel and the status it left the order in
    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 200)
    statuses = {first.json()["status"], second.json()["status"]}
    assert statuses == {"allocated", "backordered"}

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("oms_orders_captured_total", channel="web", status="allocated") == 1
    assert moved("oms_orders_captured_total", channel="web", status="backordered") == 1
    assert moved("oms_order_capture_seconds_count", channel="web") == 2
    assert moved("oms_sourcing_seconds_count", strategy="optimal") >= 1
    assert (
        moved("oms_http_requests_total", method="POST", route="/api/v1/orders/", status="201") == 2
    )
    assert moved("oms_http_request_seconds_count", method="POST", route="/api/v1/orders/") == 3
    # The outbox holds the two order.created events, not yet relayed (no worker here).
    assert OutboxEvent.objects.filter(fanned_out=False).count() >= 2
    assert moved("oms_outbox_events_unsent") == OutboxEvent.objects.filter(fanned_out=False).count()
    assert value(after, "oms_outbox_lag_seconds") >= 0


def test_outbox_alert_and_drift_series_read_the_database(scrape):
    # given
    subscription = subscribed("https://hooks.example.com/oms", events=["order.created"])
    now = timezone.now()
    event = OutboxEvent.objects.create(
        event="order.created",
        data={},
        created_at=now - timezone.timedelta(minutes=5),
        fanned_out=True,
    )
    Delivery.objects.create(
        subscription=subscription,
        event=event,
        status=Delivery.Status.DEAD,
        next_try_at=now,
        horizon_at=now,
        created_at=now,
    )
    waiting = OutboxEvent.objects.create(
        event="order.created",
        data={},
        created_at=now - timezone.timedelta(minutes=2),
        fanned_out=True,
    )
    Delivery.objects.create(
        subscription=subscription,
        event=waiting,
        status=Delivery.Status.FAILED,
        next_try_at=now,
        horizon_at=now,
        created_at=now - timezone.timedelta(minutes=2),
    )
    for subject in ("1@1", "2@1"):
        Alert.objects.create(kind=Alert.Kind.STOCK_DRIFT, subject=subject, opened_at=now)
    Alert.objects.create(kind=Alert.Kind.LOW_STOCK, subject="3@1", opened_at=now)
    Alert.objects.create(
        kind=Alert.Kind.LOW_STOCK, subject="4@1", opened_at=now, status=Alert.Status.RESOLVED
    )

    # when
    series = scrape()

    # then
    assert value(series, "oms_outbox_deliveries_dead") == 1
    assert value(series, "oms_outbox_deliveries_waiting") == 1
    assert 110 <= value(series, "oms_outbox_lag_seconds") <= 300
    assert value(series, "oms_alerts_open", kind="stock_drift") == 2
    assert value(series, "oms_alerts_open", kind="low_stock") == 1
    assert value(series, "oms_alerts_open", kind="late_order") == 0
    assert value(series, "oms_stock_drift_rows") == 2


def test_queue_length_is_read_from_the_broker(scrape, settings):
    # given: a queue of this test's own with two messages no worker takes
    queue = f"test-metrics-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    try:
        for _ in range(2):
            app.send_task("outbox.tasks.outbox_relay_task", queue=queue)
        # when
        series = scrape()
        # then
        assert value(series, "oms_celery_queue_length", queue=queue) == 2
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)


def test_every_series_the_grafana_dashboard_reads_is_served(client, settings):
    # given: the dashboard's queries
    import json
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    wanted = {
        re.sub(r"_(bucket|total|count|sum)$", "", name)
        for expr in exprs
        for name in re.findall(r"\boms_[a-z_]+", expr)
    }
    # when
    settings.OMS_METRICS_TOKEN = TOKEN
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    # then: each is declared (# HELP) by the scrape
    served = set(re.findall(r"^# HELP (oms_[a-z_]+)", text, flags=re.M))
    served |= {re.sub(r"_total$", "", name) for name in served}
    assert wanted and wanted <= served, wanted - served
