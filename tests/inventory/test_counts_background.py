"""Big count files in the admin: checked and applied by Celery tasks, with real progress."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inventory.locks import lock_stock
from inventory.models import StockCountImport, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services.counts import count_rows_unpack
from inventory.services.ledger import movement_apply
from inventory.tasks import stock_count_import_apply_task, stock_count_import_check_task
from tests.factories import LocationFactory, ProductFactory
from tests.worker import wait_for

Status = StockCountImport.Status
Kind = StockMovement.Kind
IMPORT_URL = "/admin/inventory/stocklevel/import/"


def make_shop(products: int = 30, locations: int = 4) -> tuple[list, list]:
    skus = [ProductFactory(sku=f"P{n:04d}") for n in range(products)]
    places = [LocationFactory(code=f"L{n:02d}") for n in range(locations)]
    yesterday = timezone.now() - timedelta(days=1)
    with transaction.atomic():
        rows = lock_stock([(p.pk, loc.pk) for p in skus for loc in places[:-1]])
        for row in rows.values():
            movement_apply(stock=row, kind=Kind.RECEIPT, quantity=5, at=yesterday)
    return skus, places


def count_file(skus, places, quantity=lambda i: i % 7) -> bytes:
    lines = ["sku,location,quantity"]
    lines += [
        f"{p.sku},{loc.code},{quantity(i)}"
        for i, (p, loc) in enumerate((p, loc) for p in skus for loc in places)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def upload(client, data: bytes):
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile("big.csv", data), "format": "0", "resource": "0"},
    )


@pytest.mark.django_db
def test_big_file_is_checked_and_applied_by_tasks(
    admin_client_logged, settings, django_capture_on_commit_callbacks, staff_user
):
    # given: a file over the inline limit (120 rows, limit 50), with a product never
    # stocked at the last location
    settings.OMS_COUNT_IMPORT_SYNC_MAX_ROWS = 50
    skus, places = make_shop()
    data = count_file(skus, places)

    # when: uploaded in the admin
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(admin_client_logged, data)

    # then: a job waits for a worker; the person lands on its status page
    record = StockCountImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:count-import", args=[record.pk])
    assert (record.status, record.source, record.actor) == (Status.QUEUED, "admin", staff_user)
    assert len(queued) == 1
    status_page = admin_client_logged.get(response["Location"])
    assert status_page.status_code == 200 and b"<progress" in status_page.content

    # when: the worker checks it
    stock_count_import_check_task(record.pk)

    # then: a preview to confirm, nothing applied
    record.refresh_from_db()
    assert record.status == Status.PREVIEWED and record.total_rows == 120
    assert len(count_rows_unpack(record.preview)) == 120
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()
    page = admin_client_logged.get(reverse("console:count-import", args=[record.pk]))
    assert b"Confirm and apply the counts" in page.content
    assert len(page.context["items"]) == 120

    # when: confirmed, and the worker applies it
    with django_capture_on_commit_callbacks(execute=False) as queued:
        confirmed = admin_client_logged.post(
            reverse("console:count-import-confirm", args=[record.pk])
        )
    assert confirmed.status_code == 302 and len(queued) == 1
    record.refresh_from_db()
    assert record.status == Status.CONFIRMED
    stock_count_import_apply_task(record.pk)

    # then
    record.refresh_from_db()
    assert record.status == Status.APPLIED and record.applied_rows == 120
    assert StockMovement.objects.filter(kind=Kind.COUNT, operation=record.operation).count() == 120
    assert StockLevel.objects.get(product=skus[0], location=places[0]).on_hand == 0
    assert StockLevel.objects.get(product=skus[0], location=places[3]).on_hand == 3
    assert stock_drift() == []
    progress = admin_client_logged.get(
        reverse("console:count-import-progress", args=[record.pk])
    ).json()
    assert progress == {
        "id": record.pk,
        "status": "applied",
        "status_label": "Applied",
        "percent": 100,
        "phase": "Applied 120 row(s)",
        "total_rows": 120,
        "applied_rows": 120,
        "finished": True,
    }


@pytest.mark.django_db
def test_apply_task_reports_progress_as_it_goes(monkeypatch):
    # given: a confirmed import
    skus, places = make_shop(products=10, locations=2)
    record = StockCountImport.objects.create(
        digest="f" * 64,
        source="admin",
        status=Status.CONFIRMED,
        data=count_file(skus, places),
        counted_at=timezone.now(),
    )
    reported = []
    real_set = cache.set

    def spy(key, value, *args, **kwargs):
        if key.startswith("inventory:count-import:"):
            reported.append((value["percent"], value["phase"]))
        return real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(cache, "set", spy)

    # when
    stock_count_import_apply_task(record.pk)

    # then: several phases, in order, from reading to committing
    percents = [percent for percent, _ in reported]
    assert percents == sorted(percents) and len(reported) >= 6
    phases = " | ".join(phase for _, phase in reported)
    assert "Reading" in phases and "Locking" in phases and "Committing" in phases
    record.refresh_from_db()
    assert record.status == Status.APPLIED


@pytest.mark.django_db
def test_tasks_run_twice_apply_once():
    # given
    skus, places = make_shop(products=3, locations=1)
    record = StockCountImport.objects.create(
        digest="e" * 64,
        source="admin",
        status=Status.QUEUED,
        data=count_file(skus, places, quantity=lambda i: 9),
        counted_at=timezone.now(),
    )

    # when: each task is delivered twice
    stock_count_import_check_task(record.pk)
    stock_count_import_check_task(record.pk)
    StockCountImport.objects.filter(pk=record.pk).update(status=Status.CONFIRMED)
    stock_count_import_apply_task(record.pk)
    stock_count_import_apply_task(record.pk)

    # then
    record.refresh_from_db()
    assert record.status == Status.APPLIED
    assert StockMovement.objects.filter(kind=Kind.COUNT).count() == 3
    assert set(StockLevel.objects.values_list("on_hand", flat=True)) == {9}


@pytest.mark.django_db
def test_rejected_big_file_shows_every_error_and_cannot_be_confirmed(admin_client_logged):
    # given
    skus, places = make_shop(products=2, locations=1)
    record = StockCountImport.objects.create(
        digest="d" * 64,
        source="admin",
        status=Status.QUEUED,
        data=b"sku,location,quantity\nP0000,L00,1\nNOPE,L00,2\nP0001,L00,-3\n",
        counted_at=timezone.now(),
    )

    # when
    stock_count_import_check_task(record.pk)
    page = admin_client_logged.get(reverse("console:count-import", args=[record.pk]))
    confirm = admin_client_logged.post(
        reverse("console:count-import-confirm", args=[record.pk]), follow=True
    )

    # then
    record.refresh_from_db()
    assert record.status == Status.REJECTED
    assert [e["row"] for e in record.errors] == [3, 4]
    assert b"unknown sku &#x27;NOPE&#x27;" in page.content
    assert b"Confirm and apply" not in page.content
    assert b"not waiting for confirmation" in confirm.content
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()


@pytest.mark.django_db
def test_a_checked_big_file_lists_every_problem_of_a_row(admin_client_logged):
    # given: row 3 has an unknown sku, an unknown location and a bad quantity
    make_shop(products=2, locations=1)
    record = StockCountImport.objects.create(
        digest="e" * 64,
        source="admin",
        status=Status.QUEUED,
        data=b"sku,location,quantity\nP0000,L00,1\nNOPE,MARS,x\n",
        counted_at=timezone.now(),
    )

    # when
    stock_count_import_check_task(record.pk)
    page = admin_client_logged.get(reverse("console:count-import", args=[record.pk]))

    # then
    record.refresh_from_db()
    assert record.status == Status.REJECTED
    assert [(e["row"], e["field"]) for e in record.errors] == [
        (3, "location"),
        (3, "quantity"),
        (3, "sku"),
    ]
    for text in (b"unknown sku &#x27;NOPE&#x27;", b"unknown location &#x27;MARS&#x27;"):
        assert text in page.content
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()


@pytest.mark.django_db
def test_big_file_already_applied_is_not_queued_again(admin_client_logged, settings):
    # given
    settings.OMS_COUNT_IMPORT_SYNC_MAX_ROWS = 1
    skus, places = make_shop(products=2, locations=1)
    data = count_file(skus, places)
    from inventory.services.counts import stock_count_file_apply

    first = stock_count_file_apply(data=data, actor=None, source="api").count_import

    # when
    response = upload(admin_client_logged, data)

    # then
    assert response["Location"] == reverse("console:count-import", args=[first.pk])
    assert StockCountImport.objects.count() == 1


@pytest.mark.worker
def test_a_real_worker_checks_and_applies_a_big_upload(
    celery_worker_process, client, django_user_model, settings
):
    # given: committed data a worker process can see, and an admin
    settings.OMS_COUNT_IMPORT_SYNC_MAX_ROWS = 10
    skus, places = make_shop(products=10, locations=3)
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-123456")
    client.force_login(admin)

    # when: a file of 30 rows is uploaded
    response = upload(client, count_file(skus, places, quantity=lambda i: 4))
    record = StockCountImport.objects.get()
    progress_url = reverse("console:count-import-progress", args=[record.pk])

    # then: the worker checks it
    state = wait_for(lambda: (s := client.get(progress_url).json())["finished"] and s)
    assert response.status_code == 302
    assert state["status"] == "previewed", state

    # when: confirmed
    client.post(reverse("console:count-import-confirm", args=[record.pk]))

    # then: the worker applies it
    state = wait_for(
        lambda: (s := client.get(progress_url).json())["status"] in ("applied", "failed") and s
    )
    assert state["status"] == "applied", state
    assert state["applied_rows"] == 30
    assert set(StockLevel.objects.values_list("on_hand", flat=True)) == {4}
    assert StockMovement.objects.filter(kind=Kind.COUNT).count() == 30
    assert stock_drift() == []
