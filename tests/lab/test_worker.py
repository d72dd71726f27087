"""A replay started from the console runs in a real Celery worker, once."""

import pytest
from django.urls import reverse
from django.utils import timezone

from lab.models import ReplayRun
from lab.policy import live_policy
from lab.services import replay_run_create, replay_run_execute
from tests.console.helpers import person
from tests.lab.helpers import seeded_history
from tests.worker import wait_for


@pytest.mark.worker
def test_a_replay_runs_in_a_real_worker_and_its_page_follows_it(client, celery_worker_process):
    # given
    seeded = seeded_history(orders=10)
    client.force_login(person("manon", "inventory manager"))
    today = timezone.localdate().isoformat()
    # when
    response = client.post(
        reverse("lab_console:start"),
        {"first_day": today, "last_day": today, "strategy": "nearest", "split_penalty": "0"},
    )
    run = ReplayRun.objects.get()
    progress = reverse("lab_console:progress", args=[run.pk])
    wait_for(lambda: client.get(progress).json()["finished"], timeout=60)
    # then
    assert response["Location"] == reverse("lab_console:run", args=[run.pk])
    run.refresh_from_db()
    orders = len(seeded.orders) + len(seeded.before)
    assert (run.status, run.processed, run.attempts) == ("done", orders, 1)
    assert run.summary["replay"]["orders"] == orders


@pytest.mark.django_db
def test_a_run_delivered_twice_runs_once():
    # given
    seeded_history(orders=3)
    today = timezone.localdate()
    run = replay_run_create(actor=None, first_day=today, last_day=today, policy=live_policy())
    # when
    first = replay_run_execute(run_id=run.pk)
    second = replay_run_execute(run_id=run.pk)
    # then
    assert first is not None and first.status == "done"
    assert second is None
    run.refresh_from_db()
    assert run.attempts == 1
