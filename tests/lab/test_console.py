"""The sourcing lab's console pages: start a replay, follow it, read it, export it, compare."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from lab.models import ReplayRun
from lab.policy import live_policy
from lab.services import replay_run_create, replay_run_execute
from tests.console.helpers import person
from tests.lab.helpers import seeded_history

pytestmark = pytest.mark.django_db
RUNS = reverse("lab_console:runs")
START = reverse("lab_console:start")


@pytest.fixture
def manager(client):
    user = person("manon", "inventory manager")
    client.force_login(user)
    return user


@pytest.fixture
def seeded():
    return seeded_history(orders=15)


def _form(**changes) -> dict:
    today = timezone.localdate().isoformat()
    form = {
        "name": "no Marseille",
        "first_day": today,
        "last_day": today,
        "strategy": "optimal",
        "split_penalty": "3",
        "max_shipments": "",
        "exclude": "DC-MARSEILLE",
        "let_ship": "",
    }
    return form | changes


def test_it_is_for_inventory_managers_and_administrators(client):
    # given
    clerk = person("sam", "store staff")
    admin = person("ada", "administrator")
    # when / then
    assert client.get(RUNS).status_code == 302
    client.force_login(clerk)
    assert client.get(RUNS).status_code == 403
    assert client.post(START, _form()).status_code == 403
    assert not ReplayRun.objects.exists()
    client.force_login(admin)
    assert client.get(RUNS).status_code == 200


def test_a_manager_starts_a_replay_a_worker_runs_it_and_the_page_shows_it(
    client, manager, seeded, django_capture_on_commit_callbacks
):
    # when: the form starts it ...
    with django_capture_on_commit_callbacks() as sent:
        response = client.post(START, _form())
    # then: recorded, waiting, its task sent once the record is committed
    run = ReplayRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("lab_console:run", args=[run.pk])
    assert (run.status, run.actor, run.name) == ("queued", manager, "no Marseille")
    assert run.policy["exclusions"] == [["DC-MARSEILLE", None, None]]
    assert len(sent) == 1
    page = client.get(response["Location"])
    assert b"run-progress" in page.content
    # when: ... and the worker runs it
    replay_run_execute(run_id=run.pk)
    # then
    run.refresh_from_db()
    orders = len(seeded.orders) + len(seeded.before)
    assert (run.status, run.total, run.processed) == ("done", orders, orders)
    progress = client.get(reverse("lab_console:progress", args=[run.pk])).json()
    assert (progress["percent"], progress["finished"]) == (100, True)
    page = client.get(reverse("lab_console:run", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('<svg class="console-chart"') == 6
    assert "Logistics cost by channel" in body and "run-changed" in body
    assert run.summary["changed"] > 0
    assert run.summary["changed_most"][0]["order"] in body
    exported = client.get(reverse("lab_console:csv", args=[run.pk]))
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert len(rows) == orders
    assert sum(int(row["changed"]) for row in rows) == run.summary["changed"]
    assert not any("DC-MARSEILLE" in row["replay_locations"] for row in rows)


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [
        ({"exclude": "DC-NOWHERE"}, "exclude", "No location &#x27;DC-NOWHERE&#x27;"),
        ({"let_ship": "ST-NOWHERE"}, "let_ship", "No location &#x27;ST-NOWHERE&#x27;"),
        ({"first_day": "2026-12-02", "last_day": "2026-12-01"}, "last_day", "ends before"),
        ({"split_penalty": "-1"}, "split_penalty", "greater than or equal to 0"),
        ({"strategy": "cheapest"}, "strategy", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, manager, seeded, changes, field, said):
    # when
    response = client.post(START, _form(**changes))
    # then
    assert response.status_code == 400
    assert said in response.content.decode()
    assert field in response.context["form"].errors
    assert not ReplayRun.objects.exists()


def test_a_cost_file_is_read_and_a_bad_row_named(client, manager, seeded):
    # given
    good = b"location,shipment_cost,cost_per_km,unit_cost\nDC-LYON,1.5,0.001,0.1\n"
    bad = good + b"DC-LILLE,x,0,0\n"
    # when
    refused = client.post(START, _form(costs=SimpleUploadedFile("c.csv", bad)))
    taken = client.post(START, _form(costs=SimpleUploadedFile("c.csv", good)))
    # then
    assert refused.status_code == 400
    assert "cost file, row 3: shipment_cost" in refused.context["form"].errors["costs"][0]
    assert taken.status_code == 302
    assert ReplayRun.objects.get().policy["costs"] == {"DC-LYON": [1.5, 0.001, 0.1]}


def test_two_runs_are_compared_side_by_side(client, manager, seeded):
    # given
    today = timezone.localdate()
    runs = []
    for penalty in (0.0, 50.0):
        policy = live_policy()
        policy = type(policy)(**{**policy.__dict__, "split_penalty": penalty})
        run = replay_run_create(actor=manager, first_day=today, last_day=today, policy=policy)
        replay_run_execute(run_id=run.pk)
        runs.append(run)
    # when
    response = client.get(reverse("lab_console:compare") + f"?run={runs[0].pk}&run={runs[1].pk}")
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "compare-figures" in body and body.count('<svg class="console-chart"') == 1
    listed = client.get(RUNS).content.decode()
    assert f'value="{runs[0].pk}"' in listed and f'value="{runs[1].pk}"' in listed
    assert client.get(reverse("lab_console:compare") + f"?run={runs[0].pk}").status_code == 404


def test_a_run_not_done_has_no_csv(client, manager):
    # given
    today = timezone.localdate()
    run = replay_run_create(actor=manager, first_day=today, last_day=today, policy=live_policy())
    # when
    response = client.get(reverse("lab_console:csv", args=[run.pk]))
    # then
    assert response.status_code == 404
