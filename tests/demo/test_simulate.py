"""manage.py simulate: a live day through the real services."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fulfilment.models import Fulfilment
from inventory.models import StockMovement
from inventory.reconcile import stock_drift
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--products", "60", "--history-days", "0", stdout=StringIO())


def _simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", "--speed", "0", "--seed", "7", *args, stdout=out)
    return out.getvalue()


def test_a_busy_hour_places_orders_works_them_and_keeps_the_ledger_true(demo):
    # given
    orders_before = Order.objects.count()
    shipped_before = Fulfilment.objects.filter(status="shipped").count()
    # when
    said = _simulate("--minutes", "61", "--start", "11:59", "--orders-per-day", "2000")
    # then
    placed = Order.objects.count() - orders_before
    assert placed >= 20
    assert set(Order.objects.values_list("channel__code", flat=True)) >= {"web", "app", "store"}
    assert Fulfilment.objects.filter(status="shipped").count() > shipped_before
    assert Fulfilment.objects.filter(status__in=["ready_for_pickup", "collected"]).exists()
    assert StockMovement.objects.filter(reference="simulate").exists()
    assert stock_drift() == []
    assert "so far" in said and "web order" in said


def test_the_night_is_quiet(demo):
    # given
    before = Order.objects.count()
    # when
    _simulate("--minutes", "30", "--start", "03:00", "--orders-per-day", "100")
    # then
    assert Order.objects.count() - before <= 2


@pytest.mark.parametrize("args", [("--start", "25h"), ("--speed", "-1"), ("--minutes", "-5")])
def test_bad_arguments_are_refused(args):
    with pytest.raises(CommandError):
        _simulate(*args)
