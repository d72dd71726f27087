"""Admin exports of many rows run as a background job with a result page and a download."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from console.jobs import job_run
from console.models import BackgroundJob
from inventory.models import StockLevel
from inventory.resources import StockLevelResource
from inventory.services.ledger import stock_receive
from tests.console.helpers import person
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


def export_stock(client, file_format: int = 0, **filters):
    fields = {
        f"{StockLevelResource.__name__.lower()}_{name}": "on"
        for name in StockLevelResource().get_export_order()
    }
    url = reverse("admin:inventory_stocklevel_export")
    if filters:
        url += "?" + "&".join(f"{key}={value}" for key, value in filters.items())
    return client.post(url, {"format": str(file_format), "resource": "0", **fields})


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def shop():
    """Two stores with stock of three products each; one product's name is a formula."""
    paris, lyon = StoreFactory(code="ST-PARIS"), StoreFactory(code="ST-LYON")
    products = [
        ProductFactory(sku="EVIL-1", name='=HYPERLINK("http://evil","click")'),
        ProductFactory(sku="TEE-1", name="Tee"),
        ProductFactory(sku="CAP-1", name="Cap"),
    ]
    for store in (paris, lyon):
        for product in products:
            stock_receive(product=product, location=store, quantity=5, reference="R1")
    return paris, lyon


def test_big_export_creates_a_job_and_redirects_to_its_page(admin_client_logged, settings, shop):
    # given
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 2

    # when
    response = export_stock(admin_client_logged)

    # then
    job = BackgroundJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("oms_console:job", args=[job.pk])
    assert (job.kind, job.status, job.queue, job.total) == (
        "export",
        "queued",
        "inventory.stocklevel",
        6,
    )
    assert sorted(job.params["ids"]) == sorted(StockLevel.objects.values_list("pk", flat=True))
    page = admin_client_logged.get(response["Location"])
    assert page.status_code == 200
    assert b"Waiting for a worker" in page.content


def test_job_writes_only_the_rows_a_store_person_may_see_and_offers_the_download(
    client, settings, shop
):
    # given: a store person of Paris, whose list (scoped to Paris) is bigger than the limit
    paris, _ = shop
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    clerk = person("clerk", "store staff", paris)
    client.force_login(clerk)
    response = export_stock(client)
    job = BackgroundJob.objects.get()

    # when: the worker's task runs it
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    assert (job.status, job.total, job.processed) == ("done", 3, 3)
    assert job.actor == clerk
    page = client.get(response["Location"])
    download = reverse("oms_console:job-download", args=[job.pk])
    assert download.encode() in page.content
    answer = client.get(download)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    header, *rows = csv_rows(answer.content)
    assert header[:3] == ["sku", "name", "location"]
    assert sorted((row[0], row[2]) for row in rows) == [
        ("CAP-1", "ST-PARIS"),
        ("EVIL-1", "ST-PARIS"),
        ("TEE-1", "ST-PARIS"),
    ]


def test_job_drops_rows_the_person_lost_access_to_meanwhile(client, settings, shop):
    # given: a person of both stores starts a big export, then leaves Lyon
    paris, lyon = shop
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    clerk = person("clerk", "store staff", paris, lyon)
    client.force_login(clerk)
    export_stock(client)
    job = BackgroundJob.objects.get()
    assert job.total == 6
    clerk.memberships.filter(location=lyon).delete()

    # when
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    assert job.status == "done"
    rows = csv_rows(bytes(job.output))[1:]
    assert {row[2] for row in rows} == {"ST-PARIS"}
    assert len(rows) == 3


def test_job_applies_the_changelist_filters(admin_client_logged, settings, shop):
    # given
    paris, _ = shop
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1

    # when: the export of the list filtered to Paris
    export_stock(admin_client_logged, location__id__exact=paris.pk)
    job = BackgroundJob.objects.get()
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    rows = csv_rows(bytes(job.output))[1:]
    assert job.status == "done"
    assert sorted(row[0] for row in rows) == ["CAP-1", "EVIL-1", "TEE-1"]
    assert {row[2] for row in rows} == {"ST-PARIS"}


def test_small_export_still_answers_the_file_in_the_request(admin_client_logged, settings, shop):
    # given
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 6

    # when
    response = export_stock(admin_client_logged)

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert len(csv_rows(response.content)) == 7
    assert not BackgroundJob.objects.exists()


def test_job_escapes_formula_cells_in_csv(admin_client_logged, settings, shop):
    # given
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    export_stock(admin_client_logged)
    job = BackgroundJob.objects.get()

    # when
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    names = {row[0]: row[1] for row in csv_rows(bytes(job.output))[1:]}
    assert names["EVIL-1"] == '\'=HYPERLINK("http://evil","click")'
    assert names["TEE-1"] == "Tee"


def test_job_writes_xlsx_with_text_not_formulas_and_numbers_as_numbers(
    admin_client_logged, settings, shop
):
    # given
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    export_stock(admin_client_logged, file_format=1)
    job = BackgroundJob.objects.get()

    # when
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    assert job.output_name.endswith(".xlsx")
    answer = admin_client_logged.get(reverse("oms_console:job-download", args=[job.pk]))
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    evil = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "EVIL-1")
    assert evil[1] == '\'=HYPERLINK("http://evil","click")'
    assert evil[3] == 5


def test_job_of_a_person_no_longer_staff_fails_and_writes_nothing(
    admin_client_logged, staff_user, settings, shop
):
    # given
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    export_stock(admin_client_logged)
    job = BackgroundJob.objects.get()
    job.actor.is_staff = False
    job.actor.save(update_fields=["is_staff"])

    # when
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    assert job.status == "failed"
    assert bytes(job.output) == b""


@pytest.mark.postgres
def test_big_export_job_on_postgresql_writes_every_visible_row(client, settings, shop):
    # given
    paris, _ = shop
    LocationFactory(code="WH-X")
    settings.OMS_EXPORT_SYNC_MAX_ROWS = 1
    client.force_login(person("clerk", "store staff", paris))
    export_stock(client)
    job = BackgroundJob.objects.get()

    # when
    job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    assert job.status == "done"
    assert len(csv_rows(bytes(job.output))) == 4
