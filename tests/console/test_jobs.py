"""Background jobs: a bulk action or export runs in a worker, with progress and a result page."""

import csv
import io

import pytest
from django.urls import reverse

from console.jobs import job_run
from console.models import BackgroundJob
from fulfilment.models import Fulfilment
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse
from tests.worker import wait_for


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def paris(tee):
    paris = warehouse("DC-PARIS")
    stocked(tee, paris, 100)
    return paris


@pytest.mark.django_db
def test_a_job_acts_on_every_row_matching_the_filters_and_tells_its_result(
    admin_client_logged, staff_user, tee, paris
):
    # given: three requests, one already accepted by someone else meanwhile
    ids = [Fulfilment.objects.get(order=place([(tee, 1)])).pk for _ in range(3)]
    response = admin_client_logged.post(
        reverse("oms_console:queue-act", args=["to-accept"]),
        {"action": "accept", "target": "all", "location": "DC-PARIS"},
    )
    job = BackgroundJob.objects.get()
    # when: the worker's task runs it (here in this process), twice as a redelivery would
    job_run(job_id=job.pk)
    job_run(job_id=job.pk)
    # then
    assert response["Location"] == reverse("oms_console:job", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.total, job.processed, job.succeeded, job.failed) == (
        "done",
        3,
        3,
        3,
        0,
    )
    assert Fulfilment.objects.filter(pk__in=ids, status="accepted").count() == 3
    page = admin_client_logged.get(reverse("oms_console:job", args=[job.pk]))
    progress = admin_client_logged.get(reverse("oms_console:job-progress", args=[job.pk])).json()
    assert progress["percent"] == 100 and progress["finished"] is True
    assert "3 done, 0 failed." in page.content.decode()


@pytest.mark.django_db
def test_a_job_of_a_store_person_stays_in_their_store(client, tee, paris):
    # given
    store = StoreFactory(code="ST-OPERA", ships=False)
    place([(tee, 1)])  # the warehouse's
    clerk = person("clerk", "store staff", store)
    client.force_login(clerk)
    client.post(
        reverse("oms_console:queue-act", args=["to-accept"]), {"action": "accept", "target": "all"}
    )
    job = BackgroundJob.objects.get()
    # when
    job_run(job_id=job.pk)
    # then
    job.refresh_from_db()
    assert (job.status, job.total, job.succeeded) == ("done", 0, 0)
    assert not Fulfilment.objects.filter(status="accepted").exists()


@pytest.mark.django_db
def test_others_jobs_answer_404(client, admin_client_logged, tee, paris):
    # given
    admin_client_logged.post(reverse("oms_console:queue-export", args=["to-accept"]))
    job = BackgroundJob.objects.get()
    client.force_login(person("clerk", "store staff", paris))
    # when / then
    assert client.get(reverse("oms_console:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("oms_console:job-download", args=[job.pk])).status_code == 404


@pytest.mark.worker
def test_an_export_runs_in_a_real_worker_and_its_file_downloads(
    admin_client_logged, tee, paris, celery_worker_process
):
    # given
    orders = [place([(tee, 1)], email=f"c{i}@example.com") for i in range(3)]
    # when
    response = admin_client_logged.post(
        reverse("oms_console:queue-export", args=["to-accept"]), {"location": "DC-PARIS"}
    )
    job = BackgroundJob.objects.get()
    progress_url = reverse("oms_console:job-progress", args=[job.pk])
    wait_for(lambda: admin_client_logged.get(progress_url).json()["finished"], timeout=30)
    download = admin_client_logged.get(reverse("oms_console:job-download", args=[job.pk]))
    # then
    assert response["Location"] == reverse("oms_console:job", args=[job.pk])
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert download["Content-Disposition"].startswith('attachment; filename="to-accept-')
    assert [row["order"] for row in rows] == [order.number for order in orders]
    assert {row["location"] for row in rows} == {"DC-PARIS"}
    job.refresh_from_db()
    assert (job.status, job.processed, job.total) == ("done", 3, 3)
