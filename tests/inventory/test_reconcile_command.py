import pytest
from django.core.management import CommandError, call_command

from alerts.tasks import stock_reconcile_task
from inventory.models import StockLevel
from inventory.services import stock_receive
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_stock_reconcile_passes_when_the_ledger_balances(capsys):
    stock_receive(product=ProductFactory(), location=LocationFactory(), quantity=3)
    call_command("stock_reconcile")
    assert "agree" in capsys.readouterr().out


def test_stock_reconcile_prints_drift_and_fails(capsys):
    # given
    product = ProductFactory(sku="SKU-7")
    stock_receive(product=product, location=LocationFactory(code="ST-1"), quantity=3)
    StockLevel.objects.filter(product=product).update(on_hand=1, allocated=2)
    # when
    with pytest.raises(CommandError) as error:
        call_command("stock_reconcile")
    # then
    out = capsys.readouterr().out
    assert "SKU-7 @ ST-1: on_hand is 1, the ledger says 3 (-2)" in out
    assert "allocated is 2, open allocations say 0" in out
    assert "2 drift(s)" in str(error.value)


def test_the_periodic_reconcile_task_counts_drift():
    product = ProductFactory()
    stock_receive(product=product, location=LocationFactory(), quantity=3)
    assert stock_reconcile_task() == 0
    StockLevel.objects.filter(product=product).update(on_hand=0)
    assert stock_reconcile_task() == 1
