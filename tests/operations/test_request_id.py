"""The request id: echoed on the answer, on every log line, in the outbox's deliveries and in
the Celery tasks a request queues (a real worker)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core import request_id
from core.kick import kick_clear
from core.logs import JsonFormatter
from outbox.emit import RELAY_KEY
from outbox.models import OutboxEvent
from outbox.relay import outbox_relay
from tests.orders.helpers import product, stocked, warehouse
from tests.outbound.helpers import subscribed
from tests.outbound.test_worker import order_payload
from tests.outbound.workers import worker_queue, worker_start, worker_stop
from tests.worker import wait_for


@pytest.mark.django_db
def test_it_echoes_a_well_formed_request_id(client):
    answer = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert answer["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.django_db
def test_it_makes_an_id_when_none_or_a_malformed_one_is_sent(client):
    # given / when
    none = client.get("/healthz")
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" "level": "CRITICAL')
    too_long = client.get("/healthz", HTTP_X_REQUEST_ID="a" * 129)
    # then: fresh ids, each its own
    ids = [a["X-Request-ID"] for a in (none, forged, too_long)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == 3


@pytest.mark.django_db
def test_refusals_before_any_view_carry_the_id_too(api, settings):
    settings.OMS_API_MAX_BODY_BYTES = 10
    answer = api.post(
        "/api/v1/orders/", order_payload("R-1"), format="json", HTTP_X_REQUEST_ID="big-body-1"
    )
    assert answer.status_code == 413
    assert answer["X-Request-ID"] == "big-body-1"


def test_log_lines_are_json_with_the_request_id():
    # given: a logger writing through the formatter the settings name
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # when
        with request_id.bound("req-123"):
            logger.warning("order %s refused", "W-1", extra={"channel": "web"})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    # then: one object a line
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "order W-1 refused"
    assert first["level"] == "WARNING"
    assert first["request_id"] == "req-123"
    assert first["channel"] == "web"
    assert "request_id" not in second
    assert "ValueError: boom" in second["exception"]


@pytest.mark.django_db(transaction=True)
def test_outbox_events_keep_the_request_id_and_deliveries_send_it(api, receiver):
    # given
    subscribed(receiver.url, events=["order.created"])
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 10)
    # when: an order arrives, then the relay runs (in this process, as a sweep would)
    answer = api.post(
        "/api/v1/orders/", order_payload("R-2"), format="json", HTTP_X_REQUEST_ID="shop-r2"
    )
    assert answer.status_code == 201
    outbox_relay()
    # then
    assert OutboxEvent.objects.get(event="order.created").request_id == "shop-r2"
    (delivered,) = receiver.events("order.created")
    assert delivered.headers["X-Request-ID"] == "shop-r2"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_request_id_travels_from_the_api_call_to_the_task_log_line(api, receiver, tmp_path):
    # given: a real worker writing JSON log lines, and a subscriber
    subscribed(receiver.url, events=["order.created"])
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 10)
    log = tmp_path / "worker.log"
    with worker_queue() as queue:
        worker = worker_start(queue, log, LOG_FORMAT="json")
        try:
            # when: an order is taken; its commit queues the relay on the worker (the marker
            # an earlier test's kick may have left would save that message: cleared first)
            kick_clear(RELAY_KEY)
            answer = api.post(
                "/api/v1/orders/", order_payload("R-3"), format="json", HTTP_X_REQUEST_ID="trace-r3"
            )
            assert answer.status_code == 201
            wait_for(lambda: receiver.events("order.created"), timeout=30)

            # then: the task's own log line carries the id of the request that queued it
            def task_lines() -> list[dict]:
                lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
                return [
                    line
                    for line in lines
                    if line.get("request_id") == "trace-r3"
                    and "outbox.tasks.outbox_relay_task" in line["message"]
                    and "succeeded" in line["message"]
                ]

            wait_for(task_lines, timeout=30)
        finally:
            worker_stop(worker)
    assert receiver.events("order.created")[0].headers["X-Request-ID"] == "trace-r3"
