"""The read replica: heavy pages read from it, writes never do, and a replica that lags
beyond the limit is left aside.

The `replica` alias is a second connection to the test database (lag 0). Lag is made by
functions of the same names as PostgreSQL's, in a schema searched before pg_catalog on the
connection that asks: the real query runs, against figures the test sets.
"""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import replica
from inventory.models import Product
from tests.orders.helpers import product, stocked, warehouse
from tests.outbound.test_worker import order_payload

pytestmark = pytest.mark.postgres
BOTH = ["default", "replica"]

FAKE_STANDBY = """
CREATE SCHEMA IF NOT EXISTS lagtest;
CREATE TABLE IF NOT EXISTS lagtest.standby (
    in_recovery boolean NOT NULL, received pg_lsn NOT NULL, replayed pg_lsn NOT NULL,
    lag interval
);
CREATE OR REPLACE FUNCTION lagtest.pg_is_in_recovery() RETURNS boolean
    LANGUAGE sql AS 'SELECT in_recovery FROM lagtest.standby';
CREATE OR REPLACE FUNCTION lagtest.pg_last_wal_receive_lsn() RETURNS pg_lsn
    LANGUAGE sql AS 'SELECT received FROM lagtest.standby';
CREATE OR REPLACE FUNCTION lagtest.pg_last_wal_replay_lsn() RETURNS pg_lsn
    LANGUAGE sql AS 'SELECT replayed FROM lagtest.standby';
CREATE OR REPLACE FUNCTION lagtest.pg_last_xact_replay_timestamp() RETURNS timestamptz
    LANGUAGE sql AS 'SELECT clock_timestamp() - lag FROM lagtest.standby';
"""


def standby(cursor, *, in_recovery=True, received="0/2", replayed="0/1", lag="42 seconds"):
    cursor.execute("DELETE FROM lagtest.standby")
    cursor.execute(
        "INSERT INTO lagtest.standby VALUES (%s, %s::pg_lsn, %s::pg_lsn, %s::interval)",
        [in_recovery, received, replayed, lag],
    )


@pytest.fixture(autouse=True)
def _fresh_reading():
    replica.replica_state_forget()
    yield
    replica.replica_state_forget()


@pytest.mark.django_db
def test_the_lag_is_what_the_standby_says_and_the_limit_decides(settings):
    # given: this connection answers as a standby would
    settings.OMS_READ_REPLICA = True
    settings.OMS_REPLICA_MAX_LAG_SECONDS = 30
    with connections["default"].cursor() as cursor:
        cursor.execute(FAKE_STANDBY)
        cursor.execute("SET LOCAL search_path = lagtest, pg_catalog, public")

        # when / then: 42 s behind, with WAL left to replay: too far
        standby(cursor, lag="42 seconds")
        state = replica.replica_state_read("default")
        assert state.lag_seconds == pytest.approx(42, abs=0.5)
        assert not state.usable

        # 5 s behind: used
        standby(cursor, lag="5 seconds")
        assert replica.replica_state_read("default").usable

        # everything received is replayed: no lag, however old the last transaction
        standby(cursor, received="0/5", replayed="0/5", lag="3 hours")
        assert replica.replica_state_read("default").lag_seconds == 0

        # nothing replayed yet: unknown, not used
        standby(cursor, lag=None)
        state = replica.replica_state_read("default")
        assert state.lag_seconds is None and not state.usable

        # a primary: no lag
        standby(cursor, in_recovery=False, lag="3 hours")
        assert replica.replica_state_read("default").lag_seconds == 0


def replica_reads(captured: CaptureQueriesContext) -> list[str]:
    """The queries that went to the replica, less the lag probe itself."""
    return [q["sql"] for q in captured.captured_queries if "pg_is_in_recovery" not in q["sql"]]


@pytest.fixture
def stock():
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 10)


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_heavy_pages_read_from_the_replica_and_writes_never_do(admin_client, api, settings, stock):
    # given
    settings.OMS_READ_REPLICA = True
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        # when: the dashboard and a big list are read, and an order is written
        dashboard = admin_client.get(reverse("oms_console:dashboard"))
        queue = admin_client.get(reverse("oms_console:queue", args=["backorders"]))
        read_count = len(replica_reads(on_replica))
        created = api.post("/api/v1/orders/", order_payload("RP-1"), format="json")
        written_count = len(replica_reads(on_replica))

    # then: the pages read there; the order touched only the primary
    assert (dashboard.status_code, queue.status_code, created.status_code) == (200, 200, 201)
    assert read_count > 5
    assert written_count == read_count
    assert b'id="console-replica"' in dashboard.content
    assert b"behind the primary" in dashboard.content
    assert b"read from the replica" in dashboard.content


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_reads_in_a_transaction_on_the_primary_stay_there(settings, stock):
    settings.OMS_READ_REPLICA = True
    with CaptureQueriesContext(connections["replica"]) as on_replica, replica.heavy_reads():
        outside = Product.objects.count()
        with transaction.atomic():
            inside = Product.objects.count()
    assert outside == inside == 1
    assert len(replica_reads(on_replica)) == 1  # the read outside the transaction


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_lagging_replica_sends_heavy_pages_to_the_primary(admin_client, settings, stock):
    # given: the replica's connection answers as a standby 42 s behind, the limit being 30
    settings.OMS_READ_REPLICA = True
    settings.OMS_REPLICA_MAX_LAG_SECONDS = 30
    with connections["default"].cursor() as cursor:
        cursor.execute(FAKE_STANDBY)
        standby(cursor, lag="42 seconds")
    try:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SET search_path = lagtest, pg_catalog, public")
        # when
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            lagging = admin_client.get(reverse("oms_console:dashboard"))
        # then: nothing read there but the probe; the page says why
        assert lagging.status_code == 200
        assert replica_reads(on_replica) == []
        assert replica.heavy_reads_alias() == "default"
        assert b"Too far behind" in lagging.content

        # when: it catches up (after the process's reading expires)
        with connections["default"].cursor() as cursor:
            standby(cursor, lag="1 second")
        replica.replica_state_forget()
        # then
        assert replica.heavy_reads_alias() == "replica"
    finally:
        connections["replica"].close()
        with connections["default"].cursor() as cursor:
            cursor.execute("DROP SCHEMA lagtest CASCADE")


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_replica_that_does_not_answer_is_left_aside(settings, stock):
    # given: a replica alias whose server is gone
    settings.OMS_READ_REPLICA = True
    replica_settings = connections["replica"].settings_dict
    port = replica_settings.get("PORT")
    replica_settings["PORT"] = "1"
    connections["replica"].close()
    try:
        # when / then
        state = replica.replica_state_read()
        assert state.error and not state.usable
        with replica.heavy_reads():
            assert Product.objects.count() == 1  # read from the primary
    finally:
        replica_settings["PORT"] = port
        connections["replica"].close()


@pytest.mark.django_db
def test_without_a_replica_every_read_stays_on_the_primary(settings):
    settings.OMS_READ_REPLICA = False
    state = replica.replica_state_read()
    assert not state.configured
    assert replica.heavy_reads_alias() == "default"
