"""The admin's changelists and exports read from the read replica (accounts.admin_reads,
core.admin_exports, console.admin_export_job); what a write or a refusal rests on is read on
the primary.

The `replica` alias is a second connection to the test database (tests/operations/
test_replica.py says how a lagging standby is simulated on it).
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import AlertPolicy
from console.jobs import job_run
from console.models import BackgroundJob
from core import replica
from inventory.models import StockLevel
from inventory.services.ledger import stock_receive
from tests.console.helpers import person
from tests.console.test_admin_exports import csv_rows, export_stock
from tests.factories import ProductFactory, StoreFactory
from tests.operations.test_replica import FAKE_STANDBY, replica_reads, standby

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

CHANGELISTS = [
    "admin:inventory_product_changelist",
    "admin:inventory_stocklevel_changelist",
    "admin:inventory_stockmovement_changelist",
    "admin:orders_order_changelist",
    "admin:outbox_outboxevent_changelist",
]


@pytest.fixture(autouse=True)
def _replica_on(settings):
    settings.OMS_READ_REPLICA = True
    replica.replica_state_forget()
    yield
    replica.replica_state_forget()


@pytest.fixture
def paris():
    """A store with stock of two products, and a clerk of that store."""
    store = StoreFactory(code="ST-PARIS")
    for sku in ("TEE-1", "CAP-1"):
        stock_receive(product=ProductFactory(sku=sku), location=store, quantity=5)
    return store


def _on_replica(work):
    """Run `work()`; return what it returned and the queries that went to the replica."""
    with CaptureQueriesContext(connections["replica"]) as captured:
        result = work()
    return result, replica_reads(captured)


def test_changelists_read_their_rows_from_the_replica(admin_client, paris):
    for name in CHANGELISTS:
        # when
        answer, reads = _on_replica(lambda name=name: admin_client.get(reverse(name)))
        # then
        assert answer.status_code == 200, name
        assert reads, name
        # The session and the person are read on the primary.
        assert not [sql for sql in reads if "django_session" in sql], name


def test_a_scoped_persons_permissions_and_scope_are_read_on_the_primary(client, paris):
    # given: a store clerk of Paris, limited to it
    clerk = person("clerk", "store staff", paris)
    client.force_login(clerk)
    # when
    answer, reads = _on_replica(
        lambda: client.get(reverse("admin:inventory_stocklevel_changelist"))
    )
    # then: the rows on the replica; permissions and memberships on the primary
    assert answer.status_code == 200
    assert b"TEE-1" in answer.content
    assert any("inventory_stocklevel" in sql for sql in reads)
    assert not [
        sql
        for sql in reads
        if "auth_permission" in sql or "accounts_membership" in sql or "auth_user" in sql
    ]


def test_a_post_to_a_changelist_reads_nothing_from_the_replica(admin_client, paris):
    # given
    stock = StockLevel.objects.first()
    # when: an action posted (none chosen: the admin says so and shows the list again)
    answer, reads = _on_replica(
        lambda: admin_client.post(
            reverse("admin:inventory_stocklevel_changelist"),
            {"action": "", "_selected_action": [stock.pk], "index": "0"},
        )
    )
    # then
    assert answer.status_code in (200, 302)
    assert reads == []


def test_a_changelist_that_writes_stays_on_the_primary(admin_client):
    # given: no alert policy row yet; its changelist creates it
    AlertPolicy.objects.all().delete()
    # when
    answer, reads = _on_replica(
        lambda: admin_client.get(reverse("admin:alerts_alertpolicy_changelist"))
    )
    # then
    assert answer.status_code == 302
    assert reads == []
    assert AlertPolicy.objects.filter(pk=1).exists()


def test_a_lagging_replica_leaves_changelists_on_the_primary(admin_client, paris, settings):
    # given: the replica's connection answers as a standby 42 s behind, the limit being 30
    settings.OMS_REPLICA_MAX_LAG_SECONDS = 30
    with connections["default"].cursor() as cursor:
        cursor.execute(FAKE_STANDBY)
        standby(cursor, lag="42 seconds")
    try:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SET search_path = lagtest, pg_catalog, public")
        # when
        answer, reads = _on_replica(
            lambda: admin_client.get(reverse("admin:inventory_stocklevel_changelist"))
        )
        # then
        assert answer.status_code == 200
        assert b"TEE-1" in answer.content
        assert reads == []
    finally:
        connections["replica"].close()
        with connections["default"].cursor() as cursor:
            cursor.execute("DROP SCHEMA lagtest CASCADE")


def test_an_export_answered_in_the_request_reads_its_rows_from_the_replica(
    admin_client, paris, settings
):
    # given
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 100
    # when
    answer, reads = _on_replica(lambda: export_stock(admin_client))
    # then
    assert answer.status_code == 200
    header, *rows = csv_rows(answer.content)
    assert sorted(row[0] for row in rows) == ["CAP-1", "TEE-1"]
    assert any("inventory_stocklevel" in sql for sql in reads)


def test_a_background_export_reads_its_rows_from_the_replica_and_records_on_the_primary(
    client, paris, settings
):
    # given: a big export handed to a job; its ids are recorded from the primary
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    client.force_login(person("clerk", "store staff", paris))
    started, at_start = _on_replica(lambda: export_stock(client))
    job = BackgroundJob.objects.get()
    # when: the worker's task runs it
    _, reads = _on_replica(lambda: job_run(job_id=job.pk))
    # then
    job.refresh_from_db()
    assert started.status_code == 302
    assert at_start == []
    assert (job.status, job.processed) == ("done", 2)
    assert any("inventory_stocklevel" in sql for sql in reads)
    assert not [sql for sql in reads if "console_backgroundjob" in sql]
    header, *rows = csv_rows(bytes(job.output))
    assert sorted(row[0] for row in rows) == ["CAP-1", "TEE-1"]
