"""An `Idempotency-Key` claim whose PostgreSQL session ended is retaken by the next retry at
once, not at OMS_IDEMPOTENCY_STALE_SECONDS (core.api.idempotency): the claiming app process
killed, or its session cut as a primary restart cuts every session."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from inventory.models import StockLevel, StockMovement
from tests.core.appserver import app_server_start
from tests.factories import LocationFactory, ProductFactory, StockLevelFactory
from tests.worker import _database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MOVEMENTS = reverse("stock-movements")
RECEIPT = {"sku": "SHIRT", "location": "DC", "kind": "receipt", "quantity": 5}
# Far beyond the test's own waits: a retry answered within them did not wait for staleness.
STALE_SECONDS = 600


@pytest.fixture
def stock() -> StockLevel:
    assert connection.vendor == "postgresql"
    return StockLevelFactory(
        product=ProductFactory(sku="SHIRT"), location=LocationFactory(code="DC")
    )


@pytest.fixture
def token() -> str:
    user = get_user_model().objects.create_user(username="integration")
    user.groups.add(Group.objects.get(name="integration"))
    return Token.objects.create(user=user).key


@pytest.fixture
def stock_row_held(stock):
    """The stock row locked by another session, so a movement request waits on it."""
    holder = psycopg.connect(_database_url())
    holder.execute("SELECT 1 FROM inventory_stocklevel WHERE id = %s FOR UPDATE", [stock.pk])
    yield holder
    holder.close()


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _retry(token: str, key: str) -> tuple[int, float]:
    started = time.monotonic()
    answer = _client(token).post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    return answer.status_code, time.monotonic() - started


def _session(pid: int) -> tuple[str | None, str | None] | None:
    """(state, wait_event_type) of the session `pid`, or None once it has ended."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()


def _claim_waiting_on_the_lock(key: str) -> IdempotencyRecord:
    """Wait until the request with `key` has claimed it and waits on the held stock row."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = IdempotencyRecord.objects.filter(key=key).first()
        if record is not None and _session(record.claimer_pid) == ("active", "Lock"):
            return record
        time.sleep(0.1)
    raise AssertionError(f"no request with key {key!r} waiting on the stock row")


def _ended(pid: int, within: float = 20) -> bool:
    deadline = time.monotonic() + within
    while _session(pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _processes_under(parent: int) -> list[int]:
    """The pids whose parent is `parent` (gunicorn's workers), read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return children


def test_a_killed_app_process_leaves_a_claim_the_retry_takes_over_at_once(
    stock, stock_row_held, token, tmp_path, settings
):
    # given: a request in another app process has claimed its key and waits on the stock row
    settings.OMS_IDEMPOTENCY_STALE_SECONDS = STALE_SECONDS
    settings.OMS_IDEMPOTENCY_WAIT_SECONDS = 0
    server = app_server_start(tmp_path, OMS_IDEMPOTENCY_STALE_SECONDS=str(STALE_SECONDS))
    outcome: list[object] = []

    def post() -> None:
        try:
            outcome.append(
                requests.post(
                    f"{server.url}{MOVEMENTS}",
                    json=RECEIPT,
                    headers={"Authorization": f"Token {token}", "Idempotency-Key": "cut"},
                    timeout=60,
                )
            )
        except requests.RequestException as error:
            outcome.append(error)

    sender = threading.Thread(target=post)
    sender.start()
    try:
        record = _claim_waiting_on_the_lock("cut")
        alive_status, _ = _retry(token, "cut")
        # when: the app process is killed (master first, so that no worker is started again)
        workers = _processes_under(server.process.pid)
        os.kill(server.process.pid, signal.SIGKILL)
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        server.process.wait(timeout=10)
        # Its session still runs the statement it was sent: it could still commit it.
        while_running_status, _ = _retry(token, "cut")
        stock_row_held.rollback()
        ended = _ended(record.claimer_pid)
        status, seconds = _retry(token, "cut")
    finally:
        server.stop()
        sender.join(timeout=60)
    # then
    assert alive_status == 409
    assert while_running_status == 409
    assert ended
    assert isinstance(outcome[0], requests.ConnectionError)
    assert status == 201
    assert seconds < 10
    assert StockLevel.objects.get(pk=stock.pk).on_hand == 5
    assert StockMovement.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="cut").response_status == 201


def test_a_claim_whose_session_was_cut_is_taken_over_by_the_first_retry(
    stock, stock_row_held, token, settings
):
    # given: a request claimed its key and waits on the stock row
    settings.OMS_IDEMPOTENCY_STALE_SECONDS = STALE_SECONDS
    settings.OMS_IDEMPOTENCY_WAIT_SECONDS = 0
    failures: list[BaseException] = []

    def post() -> None:
        try:
            _client(token).post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="restart")
        except BaseException as error:  # asserted on below
            failures.append(error)
        finally:
            connections.close_all()

    sender = threading.Thread(target=post)
    sender.start()
    record = _claim_waiting_on_the_lock("restart")
    name = connection.settings_dict["NAME"]
    # when: its session is ended, and the database refuses new sessions meanwhile, as a
    # restarting primary does: the request fails and cannot drop its claim
    with psycopg.connect(_database_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(%s)", [record.claimer_pid])
            sender.join(timeout=60)
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    stock_row_held.rollback()
    status, seconds = _retry(token, "restart")
    # then: the claim was left behind; the first retry ran the request, at once
    assert failures, "the cut request should have failed"
    assert status == 201
    assert seconds < 10
    assert StockLevel.objects.get(pk=stock.pk).on_hand == 5
    assert StockMovement.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="restart").response_status == 201


def test_a_claim_is_kept_while_its_session_lives_and_retaken_when_its_pid_is_reused(
    stock, token, settings
):
    # given: a claim recorded as taken by a session that is still open, a moment ago
    settings.OMS_IDEMPOTENCY_STALE_SECONDS = STALE_SECONDS
    settings.OMS_IDEMPOTENCY_WAIT_SECONDS = 0
    other = psycopg.connect(_database_url(), autocommit=True)
    try:
        pid, started = other.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
        first = _client(token).post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="alive")
        IdempotencyRecord.objects.filter(key="alive").update(
            response_status=None,
            response_body="",
            claimer_pid=pid,
            claimer_started_at=started,
        )
        # when
        kept, _ = _retry(token, "alive")
        # The same pid, but a session started later: the claimer's session is gone.
        IdempotencyRecord.objects.filter(key="alive").update(
            claimer_started_at=started - timedelta(seconds=1)
        )
        retaken, seconds = _retry(token, "alive")
    finally:
        other.close()
    # then: the live claim is answered "in progress"; the reused pid does not keep it
    assert first.status_code == 201
    assert kept == 409
    assert retaken == 201
    assert seconds < 10
    # The ledger carries the key: the retaken request did not move the stock again.
    assert StockLevel.objects.get(pk=stock.pk).on_hand == 5
    assert StockMovement.objects.count() == 1
    record = IdempotencyRecord.objects.get(key="alive")
    assert record.claimed_at > timezone.now() - timedelta(minutes=1)
    assert record.claimer_pid != pid


def test_the_check_off_leaves_a_dead_claimers_key_to_the_stale_horizon(stock, token, settings):
    # given: a claim whose session has ended, with the check turned off (behind PgBouncer)
    settings.OMS_IDEMPOTENCY_STALE_SECONDS = STALE_SECONDS
    settings.OMS_IDEMPOTENCY_WAIT_SECONDS = 0
    settings.OMS_IDEMPOTENCY_CLAIMER_CHECK = False
    gone = psycopg.connect(_database_url())
    pid, started = gone.execute(
        "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
    ).fetchone()
    gone.close()
    assert _ended(pid)
    _client(token).post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="pooled")
    IdempotencyRecord.objects.filter(key="pooled").update(
        response_status=None, response_body="", claimer_pid=pid, claimer_started_at=started
    )
    # when
    status, _ = _retry(token, "pooled")
    # then
    assert status == 409
    assert IdempotencyRecord.objects.get(key="pooled").claimer_pid == pid
