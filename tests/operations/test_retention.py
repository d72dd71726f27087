"""Retention: what goes past its horizon, what stays, and batches that never wait on a lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from console.models import BackgroundJob
from core.models import IdempotencyRecord
from inventory.models import StockCountImport, StockMovement
from oms.celery import app
from operations.retention import retention_prune
from orders.models import OrderEvent
from outbox.models import Delivery, OutboxEvent
from tests.orders.helpers import place, product, stocked, warehouse
from tests.outbound.helpers import subscribed

pytestmark = pytest.mark.django_db
DS = Delivery.Status


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def subscription():
    return subscribed("https://hooks.example.com/oms", events=["order.created"])


def event_with(subscription, *statuses: str, age: timedelta, fanned_out: bool = True):
    at = timezone.now() - age
    event = OutboxEvent.objects.create(
        event="order.created", data={}, created_at=at, fanned_out=fanned_out
    )
    for status in statuses:
        other = subscribed(
            f"https://hooks.example.com/{event.pk}-{status}", events=["order.created"]
        )
        Delivery.objects.create(
            subscription=other if Delivery.objects.filter(event=event).exists() else subscription,
            event=event,
            status=status,
            next_try_at=at,
            horizon_at=at,
            created_at=at,
        )
    return event


def test_delivered_events_past_their_horizon_go_with_their_deliveries(subscription):
    # given: events 31 days old (horizon 30) in every state, and a recent delivered one
    old = timedelta(days=31)
    delivered = event_with(subscription, DS.DELIVERED, DS.DELIVERED, age=old)
    no_subscriber = event_with(subscription, age=old)
    still_waiting = event_with(subscription, DS.DELIVERED, DS.FAILED, age=old)
    dead = event_with(subscription, DS.DEAD, age=old)
    not_fanned_out = event_with(subscription, age=old, fanned_out=False)
    recent = event_with(subscription, DS.DELIVERED, age=timedelta(days=29))

    # when
    pruned = retention_prune()

    # then
    kept = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert kept == {still_waiting.pk, dead.pk, not_fanned_out.pk, recent.pk}
    assert delivered.pk not in kept and no_subscriber.pk not in kept
    assert not Delivery.objects.filter(event_id=delivered.pk).exists()
    assert Delivery.objects.filter(event_id=still_waiting.pk).count() == 2
    assert pruned.by_kind["delivered_events"].rows == 2


def test_it_works_in_batches_of_the_size_asked(subscription):
    # given: five prunable events
    for _ in range(5):
        event_with(subscription, DS.DELIVERED, age=timedelta(days=40))
    # when
    pruned = retention_prune(batch_size=2)
    again = retention_prune(batch_size=2)
    # then: three transactions (2 + 2 + 1); a second run finds nothing
    assert (
        pruned.by_kind["delivered_events"].rows,
        pruned.by_kind["delivered_events"].batches,
    ) == (5, 3)
    assert again.by_kind["delivered_events"].rows == 0
    assert not OutboxEvent.objects.exists()


def test_the_batch_size_comes_from_the_settings(subscription, settings):
    settings.OMS_RETENTION_BATCH = 1
    for _ in range(3):
        event_with(subscription, DS.DELIVERED, age=timedelta(days=40))
    assert retention_prune().by_kind["delivered_events"].batches == 3


def test_idempotency_records_past_their_time_to_live_go(user, settings):
    # given
    settings.OMS_IDEMPOTENCY_TTL_HOURS = 24
    now = timezone.now()
    for key, age in (("old", 25), ("young", 23)):
        record = IdempotencyRecord.objects.create(
            user=user,
            key=key,
            endpoint="POST /api/v1/orders/",
            request_hash="0" * 64,
            claimed_at=now,
        )
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=now - timedelta(hours=age))
    # when
    pruned = retention_prune()
    # then
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
    assert pruned.by_kind["idempotency_records"].rows == 1


def count_import(status: str, age: timedelta) -> StockCountImport:
    made = StockCountImport.objects.create(
        digest=f"{status}{age.days}".ljust(64, "0"),
        source=StockCountImport.Source.API,
        status=status,
        data=b"sku,location,quantity\n",
        preview=b"x" * 10,
        changes=b"kept",
        counted_at=timezone.now(),
    )
    StockCountImport.objects.filter(pk=made.pk).update(updated_at=timezone.now() - age)
    return made


def test_count_files_of_finished_imports_go_and_their_rows_stay():
    # given
    old_applied = count_import(StockCountImport.Status.APPLIED, timedelta(days=31))
    old_failed = count_import(StockCountImport.Status.FAILED, timedelta(days=31))
    old_waiting = count_import(StockCountImport.Status.PREVIEWED, timedelta(days=31))
    young_applied = count_import(StockCountImport.Status.APPLIED, timedelta(days=2))
    # when
    pruned = retention_prune()
    # then
    for pruned_row in (old_applied, old_failed):
        pruned_row.refresh_from_db()
        assert (bytes(pruned_row.data), bytes(pruned_row.preview)) == (b"", b"")
        assert bytes(pruned_row.changes) == b"kept"  # what a repeat upload is answered with
    for kept_row in (old_waiting, young_applied):
        kept_row.refresh_from_db()
        assert bytes(kept_row.data) == b"sku,location,quantity\n"
    assert pruned.by_kind["count_import_files"].rows == 2


def test_export_files_go_and_the_job_page_says_so(admin_client, now):
    # given: an export finished 31 days ago, and one finished yesterday
    admin = get_user_model().objects.get(username="admin")
    old, young = (
        BackgroundJob.objects.create(
            kind=BackgroundJob.Kind.EXPORT,
            queue="to-accept",
            status=BackgroundJob.Status.DONE,
            output=b"number\nW-1\n",
            output_name=f"export-{days}.csv",
            actor=admin,
            finished_at=now - timedelta(days=days),
        )
        for days in (31, 1)
    )
    # when
    pruned = retention_prune()
    # then
    old.refresh_from_db()
    assert (bytes(old.output), old.output_name) == (b"", "")
    assert BackgroundJob.objects.get(pk=young.pk).output_name == "export-1.csv"
    assert pruned.by_kind["export_files"].rows == 1
    page = admin_client.get(reverse("oms_console:job", args=[old.pk]))
    assert b"The file was deleted" in page.content
    assert admin_client.get(reverse("oms_console:job-download", args=[old.pk])).status_code == 404
    assert admin_client.get(reverse("oms_console:job-download", args=[young.pk])).status_code == 200


def test_internal_timeline_noise_goes_and_the_rest_of_the_timeline_stays(admin_user, settings):
    # given: an order, with old noise and old entries that matter
    settings.OMS_RETAIN_TIMELINE_NOISE_DAYS = 180
    stocked(item := product("TEE-1"), warehouse("DC-PARIS"), 5)
    order = place([(item, 1)])
    kinds_before = sorted(order.events.values_list("kind", flat=True))
    K = OrderEvent.Kind
    noise = [
        OrderEvent.objects.create(order=order, kind=K.STATUS_CHANGED, public=False),
        OrderEvent.objects.create(order=order, kind=K.NOTE, public=False, message="Sourced again"),
    ]
    kept = [
        OrderEvent.objects.create(order=order, kind=K.NOTE, public=False, actor=admin_user),
        OrderEvent.objects.create(order=order, kind=K.STATUS_CHANGED, public=True),
        OrderEvent.objects.create(order=order, kind=K.CANCELLED, public=False),
    ]
    young_noise = OrderEvent.objects.create(order=order, kind=K.STATUS_CHANGED, public=False)
    old = timezone.now() - timedelta(days=181)
    OrderEvent.objects.exclude(pk=young_noise.pk).update(created_at=old)
    # when
    pruned = retention_prune()
    # then
    remaining = set(order.events.values_list("pk", flat=True))
    assert not remaining & {e.pk for e in noise}
    assert {e.pk for e in kept} | {young_noise.pk} <= remaining
    assert (
        sorted(
            order.events.exclude(pk__in=[e.pk for e in kept] + [young_noise.pk]).values_list(
                "kind", flat=True
            )
        )
        == kinds_before
    )
    assert pruned.by_kind["timeline_noise"].rows == 2


def test_the_ledger_stays_whole(settings):
    # given: movements years old
    stocked(item := product("TEE-1"), warehouse("DC-PARIS"), 5)
    place([(item, 1)])
    StockMovement.objects.update(created_at=timezone.now() - timedelta(days=3650))
    before = list(StockMovement.objects.order_by("pk").values_list("pk", "quantity"))
    settings.OMS_RETAIN_DELIVERED_EVENTS_DAYS = 0
    settings.OMS_RETAIN_TIMELINE_NOISE_DAYS = 0
    settings.OMS_RETAIN_JOB_FILES_DAYS = 0
    # when
    retention_prune()
    # then
    assert (
        before
        and list(StockMovement.objects.order_by("pk").values_list("pk", "quantity")) == before
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_someone_holds_is_skipped_not_waited_for(subscription):
    # given: two prunable events, one locked by another transaction that stays open
    held, free = (event_with(subscription, DS.DELIVERED, age=timedelta(days=40)) for _ in range(2))
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                OutboxEvent.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        # when: the prune runs while the lock is held
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting on the lock would fail it
        first = retention_prune()
    finally:
        release.set()
        holder.join()
    # then: the free one went at once, the held one waits for the next run
    assert first.by_kind["delivered_events"].rows == 1
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [held.pk]
    assert retention_prune().by_kind["delivered_events"].rows == 1
    assert not OutboxEvent.objects.exists()
    assert Delivery.objects.filter(event_id__in=[held.pk, free.pk]).count() == 0


def test_the_command_prunes_and_says_what_went(subscription, capsys):
    for _ in range(3):
        event_with(subscription, DS.DELIVERED, age=timedelta(days=40))
    call_command("retention_prune", "--batch", "2")
    out = capsys.readouterr().out
    assert "delivered_events: 3 row(s) in 2 batch(es)" in out
    assert "timeline_noise: 0 row(s)" in out
    assert not OutboxEvent.objects.exists()


def test_the_command_refuses_a_batch_below_one(capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("retention_prune", "--batch", "0")
    assert exited.value.code == 2
    assert "--batch must be at least 1" in capsys.readouterr().err


def test_beat_runs_the_prune_nightly(subscription):
    # given
    event_with(subscription, DS.DELIVERED, age=timedelta(days=40))
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention-prune"]
    app.loader.import_default_modules()
    # when: the task beat names runs
    result = app.tasks[entry["task"]].apply().get()
    # then
    assert result["delivered_events"] == {"rows": 1, "batches": 1}
    assert not OutboxEvent.objects.exists()
