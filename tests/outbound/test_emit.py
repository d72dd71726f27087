"""Emission in the caller's transaction: one INSERT for many events, and a kick that never
fails a committed change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from core.kick import kick
from outbox.emit import COPIED, RELAY_KEY, RELAY_TASK, Draft, events_emit
from outbox.models import OutboxEvent
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db(transaction=True)
DEAD_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "coordination": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    },
}


def test_several_events_are_written_in_one_insert():
    # when
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        events_emit(drafts=[Draft("stock.low", {"n": n}, None, f"k{n}") for n in range(5)])

    # then: one statement besides the transaction's own
    statements = [q["sql"] for q in captured.captured_queries]
    assert [sql.split()[0] for sql in statements if "BEGIN" not in sql and "COMMIT" not in sql] == [
        "INSERT"
    ]
    assert sorted(OutboxEvent.objects.values_list("data__n", flat=True)) == [0, 1, 2, 3, 4]
    assert len(set(OutboxEvent.objects.values_list("uid", flat=True))) == 5


@pytest.mark.postgres
def test_many_events_are_copied_and_read_back_as_an_insert_writes_them():
    # given: enough events to go by COPY, with the values an INSERT converts (a lazy
    # translation among them)
    paris = LocationFactory(code="DC-PARIS")
    drafts = [
        Draft(
            "return.received",
            {"n": n, "amount": Decimal("19.90"), "é": "ü", "note": gettext_lazy("as sent")},
            paris.pk,
            f"r{n}",
        )
        for n in range(COPIED)
    ]
    # when
    with transaction.atomic():
        events_emit(drafts=drafts)
    # then: every event, whole, waiting for the relay
    rows = list(OutboxEvent.objects.order_by("id"))
    assert [row.data for row in rows] == [
        {"n": n, "amount": "19.90", "é": "ü", "note": "as sent"} for n in range(COPIED)
    ]
    assert {(row.event, row.location_id, row.fanned_out) for row in rows} == {
        ("return.received", paris.pk, False)
    }
    assert [row.key for row in rows] == [f"r{n}" for n in range(COPIED)]
    assert len({row.uid for row in rows}) == COPIED
    assert all(row.created_at is not None for row in rows)


@override_settings(CACHES=DEAD_REDIS)
def test_a_commit_stands_when_redis_cannot_be_reached_for_the_kick():
    # when: the change commits, then the kick finds Redis down
    with transaction.atomic():
        events_emit(drafts=[Draft("stock.low", {"sku": "TEE-1"}, None, "")])

    # then: no error reached the caller; the event waits for the periodic sweep
    assert OutboxEvent.objects.filter(fanned_out=False).count() == 1
    assert kick(task_name=RELAY_TASK, key=RELAY_KEY) is False
