"""A count import survives its worker being killed (SIGKILL) while it checks or applies.

A real Celery worker runs the import; the test kills it in the middle, runs the sweep
once the lease ran out, starts a worker again and watches the import end. The stock is
untouched while the import is stuck, and applied exactly once at the end.
"""

import os
import signal
import time
import uuid

import pytest
from django.db.models import Sum

from inventory.models import Location, Product, StockCountImport, StockLevel, StockMovement
from inventory.services.counts import (
    MAX_ATTEMPTS,
    stock_count_import_confirm,
    stock_count_import_start,
    stock_count_imports_sweep,
)
from oms.celery import app
from tests.worker import wait_for, worker_start, worker_stop

Status = StockCountImport.Status
LEASE_SECONDS = 2
PRODUCTS, LOCATIONS = 300, 100  # 30,000 rows: the check and the apply each take a while


@pytest.fixture
def queue(transactional_db, settings):
    """A fresh queue that this process sends to; the workers of the test listen on it."""
    settings.OMS_JOB_LEASE_SECONDS = LEASE_SECONDS
    name = f"test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = previous


@pytest.fixture
def workers(queue, tmp_path):
    """Start workers on the queue (with the short lease); stop whatever is left after."""
    started = []

    def start():
        log = tmp_path / f"worker-{len(started)}.log"
        process = worker_start(queue, log, OMS_JOB_LEASE_SECONDS=str(LEASE_SECONDS))
        started.append(process)
        return process

    yield start
    for process in started:
        worker_stop(process)


def count_file() -> bytes:
    Product.objects.bulk_create(
        Product(sku=f"K-{n:04d}", name=f"Product {n}") for n in range(PRODUCTS)
    )
    Location.objects.bulk_create(
        Location(code=f"S{n:03d}", name=f"Store {n}", lat=48.0, lon=2.0) for n in range(LOCATIONS)
    )
    rows = [f"K-{p:04d},S{loc:03d},7" for p in range(PRODUCTS) for loc in range(LOCATIONS)]
    return ("sku,location,quantity\n" + "\n".join(rows) + "\n").encode()


def status_of(record: StockCountImport) -> str:
    return StockCountImport.objects.values_list("status", flat=True).get(pk=record.pk)


def kill_when(record: StockCountImport, worker, status: str) -> None:
    """SIGKILL the worker as soon as it is working on the import in `status`."""
    wait_for(lambda: status_of(record) == status, timeout=120, interval=0.02)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def sweep_restarts_it() -> None:
    """Run the sweep until it restarts the import: once the lease ran out and PostgreSQL
    has ended the dead worker's session (its row lock is the lease while it applies)."""
    time.sleep(LEASE_SECONDS)
    wait_for(lambda: stock_count_imports_sweep()["restarted"], timeout=60, interval=0.5)


def counted_units() -> int:
    return StockLevel.objects.aggregate(total=Sum("on_hand"))["total"] or 0


@pytest.mark.worker
def test_a_count_import_whose_worker_is_killed_while_checking_is_restarted_and_checked(
    workers, staff_user
):
    # given: a big count file, and a worker checking it
    record = stock_count_import_start(data=count_file(), file_name="big.csv", actor=staff_user)
    worker = workers()

    # when: the worker is killed during the check
    kill_when(record, worker, Status.CHECKING)

    # then: the import is stuck while its lease runs; nothing is applied
    assert status_of(record) == Status.CHECKING
    assert not StockMovement.objects.exists()

    # when: the sweep finds it once the lease ran out, and a worker runs again
    sweep_restarts_it()
    record.refresh_from_db()
    assert record.status == Status.QUEUED
    assert record.phase == "The worker checking this import stopped; it was restarted"
    workers()

    # then: the check ends, with the preview of every row, on its second run
    wait_for(lambda: status_of(record) == Status.PREVIEWED, timeout=120)
    record.refresh_from_db()
    assert record.total_rows == PRODUCTS * LOCATIONS
    assert record.attempts == 2
    assert not StockMovement.objects.exists()


@pytest.mark.worker
def test_a_count_import_whose_worker_is_killed_while_applying_is_applied_once_in_full(
    workers, staff_user
):
    # given: a big count file, checked and confirmed
    record = stock_count_import_start(data=count_file(), file_name="big.csv", actor=staff_user)
    worker = workers()
    wait_for(lambda: status_of(record) == Status.PREVIEWED, timeout=120)
    stock_count_import_confirm(count_import=record, actor=staff_user)

    # when: the worker is killed while it applies the counts
    kill_when(record, worker, Status.APPLYING)

    # then: not one count is applied (the apply is one transaction)
    assert status_of(record) == Status.APPLYING
    assert not StockMovement.objects.exists()
    assert counted_units() == 0

    # when: the sweep restarts it and a worker runs again
    sweep_restarts_it()
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED
    assert record.phase.startswith("The worker applying this import stopped; it was restarted")
    workers()

    # then: every row is applied, once
    wait_for(lambda: status_of(record) == Status.APPLIED, timeout=120)
    assert StockMovement.objects.filter(kind="count").count() == PRODUCTS * LOCATIONS
    assert counted_units() == 7 * PRODUCTS * LOCATIONS
    assert StockCountImport.objects.get(pk=record.pk).attempts == 2


@pytest.mark.django_db
def test_an_import_whose_worker_died_too_often_fails_saying_nothing_was_applied(
    settings, staff_user
):
    # given: an apply whose worker died on its last allowed run (heartbeat long past)
    settings.OMS_JOB_LEASE_SECONDS = LEASE_SECONDS
    record = StockCountImport.objects.create(
        digest="d" * 64,
        source=StockCountImport.Source.ADMIN,
        status=Status.APPLYING,
        data=b"sku,location,quantity\nA,B,1\n",
        counted_at="2026-01-01T00:00:00Z",
        attempts=MAX_ATTEMPTS,
        heartbeat_at="2026-01-01T00:00:00Z",
    )

    # when
    done = stock_count_imports_sweep()

    # then: failed, with what a person needs to know
    record.refresh_from_db()
    assert done["failed"] == 1
    assert record.status == Status.FAILED
    assert "nothing was applied" in record.phase
    assert "upload the file again" in record.phase
    assert not StockMovement.objects.exists()
