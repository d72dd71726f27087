"""Event-driven evaluation: stock changes kick one run after commit, which reads the rows
changed since its watermark."""

import pytest
from django.utils import timezone

from alerts.kicks import STOCK_TASK
from alerts.models import Alert, Watermark
from alerts.services import stock_changes_evaluate
from inventory.models import StockLevel
from inventory.services import stock_adjust
from tests.alerts.helpers import set_available
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


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

    # then: one kick among the commit hooks, however many rows moved
    kicks = [c for c in callbacks if "kick" in getattr(c, "__qualname__", "")]
    assert len(kicks) == 1


def test_the_evaluation_reads_only_rows_changed_since_its_watermark(global_threshold):
    # given: a row low before the watermark (not evaluated), then a row going low after
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


def test_the_task_name_is_the_registered_task():
    from oms.celery import app

    app.loader.import_default_modules()
    assert STOCK_TASK in app.tasks
