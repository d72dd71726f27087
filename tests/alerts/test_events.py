"""Event-driven evaluation: stock changes kick one run after commit, which reads only the
rows that moved (named in a Redis set; embedded, found past a watermark)."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from alerts.models import Alert, Watermark
from alerts.services import stock_changes_evaluate
from alerts.tasks import STOCK_TASK
from inventory.countfile import CountLine
from inventory.models import StockLevel
from inventory.moved import Changed, changed_pop, shared_set
from inventory.services import stock_adjust
from inventory.services.counts import stock_count_apply
from orders.models import Channel
from orders.services.reservations import ReservedLine, reservation_create
from tests.alerts.helpers import set_available
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="the shared set is in Redis")
# Embedded mode: a coordination cache that is not Redis.
EMBEDDED = {
    **settings.CACHES,
    "coordination": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}


def test_a_transaction_moving_many_rows_queues_one_evaluation(django_capture_on_commit_callbacks):
    # given
    paris = LocationFactory(code="PARIS")
    products = [ProductFactory(sku=f"P{n}") for n in range(3)]

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        from django.db import transaction

        from inventory.locks import lock_stock
        from inventory.services.ledger import movement_apply

        with transaction.atomic():
            rows = lock_stock([(p.pk, paris.pk) for p in products])
            for row in rows.values():
                movement_apply(stock=row, kind="receipt", quantity=5)

    # then: one alerts hook among the commit hooks, however many rows moved
    hooks = [c for c in callbacks if c.__module__ == "inventory.moved"]
    assert len(hooks) == 1


@override_settings(CACHES=EMBEDDED)
def test_embedded_the_evaluation_reads_only_rows_changed_since_its_watermark(global_threshold):
    # given: a row low before the watermark (not evaluated), then a row going low after
    assert not shared_set()
    tee, cap = ProductFactory(sku="TEE"), ProductFactory(sku="CAP")
    paris = LocationFactory(code="PARIS")
    set_available(tee, paris, 1)
    StockLevel.objects.filter(product=tee).update(
        updated_at=timezone.now() - timezone.timedelta(hours=1)
    )
    Watermark.objects.create(name="stock", at=timezone.now() - timezone.timedelta(minutes=5))
    set_available(cap, paris, 40)

    # when
    stock_adjust(product=cap, location=paris, quantity=-38, reason="breakage")
    stock_changes_evaluate()

    # then: CAP was evaluated, TEE is left to the periodic sweep
    assert list(Alert.objects.values_list("product__sku", flat=True)) == ["CAP"]
    assert Watermark.objects.get(name="stock").at > timezone.now() - timezone.timedelta(minutes=1)


@pytest.mark.postgres
@needs_redis
def test_with_redis_the_evaluation_reads_only_the_rows_named_after_commit(
    global_threshold, django_capture_on_commit_callbacks
):
    # given: TEE low without going through a stock service (nobody named it)
    tee, cap = ProductFactory(sku="TEE"), ProductFactory(sku="CAP")
    paris = LocationFactory(code="PARIS")
    with django_capture_on_commit_callbacks(execute=True):
        set_available(tee, paris, 40)
        set_available(cap, paris, 40)
    StockLevel.objects.filter(product=tee).update(on_hand=1)
    changed_pop()  # the set-up, and what earlier tests of this process left

    # when: CAP moves through the ledger, and its transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(product=cap, location=paris, quantity=-38, reason="breakage")
    stock_changes_evaluate()

    # then: only CAP was read; the set is empty again
    assert list(Alert.objects.values_list("product__sku", flat=True)) == ["CAP"]
    assert not changed_pop()
    assert not Watermark.objects.exists()


@pytest.mark.postgres
@needs_redis
def test_with_redis_a_reservation_names_its_rows_and_a_count_its_locations(
    django_capture_on_commit_callbacks,
):
    # given
    tee = ProductFactory(sku="TEE")
    paris = LocationFactory(code="PARIS")
    with django_capture_on_commit_callbacks(execute=True):
        set_available(tee, paris, 10)
    row = StockLevel.objects.get(product=tee, location=paris)
    changed_pop()

    # when: a basket holds 2 units
    with django_capture_on_commit_callbacks(execute=True):
        reservation_create(channel=Channel.objects.get(code="web"), lines=[ReservedLine(tee, 2)])

    # then
    assert changed_pop() == Changed(stock_ids={row.pk})

    # when: a count lands at PARIS
    with django_capture_on_commit_callbacks(execute=True):
        stock_count_apply(lines=[CountLine(1, "TEE", "PARIS", 3, None)], actor=None)

    # then: the whole location is evaluated
    assert changed_pop() == Changed(location_ids={paris.pk})


def test_the_task_name_is_the_registered_task():
    from oms.celery import app

    app.loader.import_default_modules()
    assert STOCK_TASK in app.tasks
