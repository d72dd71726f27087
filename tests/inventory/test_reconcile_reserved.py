"""`reserved` against the active reservation lines: drift found, reported, repaired."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory.models import StockLevel
from inventory.reconcile import Drift, stock_drift
from inventory.services.repair import stock_counters_repair
from orders.models import Channel
from orders.services.reservations import ReservedLine, reservation_create
from tests.orders.helpers import product, stocked, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def held():
    """A stock row of 10 with 3 units held by a reservation."""
    sku = product("RES-1")
    stock = stocked(sku, warehouse("DC-R"), 10)
    reservation_create(
        channel=Channel.objects.get(code="web"), lines=[ReservedLine(sku, 3)], minutes=15
    )
    stock.refresh_from_db()
    assert stock.reserved == 3
    return stock


def test_reserved_agrees_with_the_active_reservation_lines(held):
    assert stock_drift() == []


def test_an_expired_reservation_not_yet_swept_is_no_drift(held):
    # given: the reservation's time has passed, the sweep has not run
    held.reservation_lines.update(expires_at=timezone.now() - timedelta(minutes=1))
    # then: the counter still holds its units, and the rule takes them out
    assert stock_drift() == []
    assert StockLevel.objects.get(pk=held.pk).available == 10


def test_stock_reconcile_reports_reserved_drift(held, capsys):
    # given: the counter lost one unit
    StockLevel.objects.filter(pk=held.pk).update(reserved=2)
    # when
    with pytest.raises(CommandError) as error:
        call_command("stock_reconcile")
    # then
    out = capsys.readouterr().out
    assert "RES-1 @ DC-R: reserved is 2, active reservations say 3 (-1)" in out
    assert "1 drift(s)" in str(error.value)


def test_stock_counters_repair_sets_reserved_and_allocated_back(held):
    # given: both counters drifted
    StockLevel.objects.filter(pk=held.pk).update(reserved=7, allocated=4)
    # when
    repaired = stock_counters_repair()
    # then
    assert sorted(repaired, key=lambda item: item.field) == [
        Drift(held.pk, "RES-1", "DC-R", "allocated", 4, 0),
        Drift(held.pk, "RES-1", "DC-R", "reserved", 7, 3),
    ]
    stock = StockLevel.objects.get(pk=held.pk)
    assert (stock.allocated, stock.reserved, stock.available) == (0, 3, 7)
    assert stock_drift() == []


def test_stock_counters_repair_leaves_on_hand_to_a_person(held):
    # given
    StockLevel.objects.filter(pk=held.pk).update(on_hand=12)
    # when
    repaired = stock_counters_repair()
    # then
    assert repaired == []
    assert [item.field for item in stock_drift()] == ["on_hand"]


def test_stock_reconcile_repair_fixes_the_counters_and_passes(held, capsys):
    # given
    StockLevel.objects.filter(pk=held.pk).update(reserved=0)
    # when
    call_command("stock_reconcile", "--repair")
    # then
    out = capsys.readouterr().out
    assert "repaired: RES-1 @ DC-R: reserved is 0, active reservations say 3 (-3)" in out
    assert "agree" in out
    assert StockLevel.objects.get(pk=held.pk).reserved == 3
