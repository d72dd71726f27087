"""The replay: the live policy reproduces what capture did; another policy stays within its
rules; the figures add up; nothing is written."""

from dataclasses import replace

import pytest

from inventory.models import Allocation, StockLevel, StockMovement
from lab.history import history_load
from lab.policy import Exclusion, live_policy
from lab.replay import replay
from lab.report import summary_of
from orders.models import Order
from tests.lab.helpers import seeded_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    return seeded_history()


def test_replaying_with_the_live_policy_reproduces_the_real_allocations(seeded):
    # given
    history = history_load(start=seeded.start, end=seeded.end)
    # when
    result = replay(history, live_policy())
    # then: every order of the period, each allocated exactly as capture allocated it
    assert [o.number for o in result.outcomes] == [o.number for o in seeded.orders]
    real = {}
    for allocation in Allocation.objects.filter(order_line__order__in=seeded.orders).select_related(
        "order_line__order", "stock"
    ):
        if allocation.created_at == allocation.order_line.order.created_at:
            key = (allocation.order_line.order.number, allocation.order_line.line_no)
            real.setdefault(key, {})[allocation.stock.location_id] = allocation.quantity
    replayed = {}
    for outcome in result.outcomes:
        for (line_no, location_id), units in outcome.replay.picks.items():
            replayed.setdefault((outcome.number, line_no), {})[location_id] = units
    assert replayed == real
    assert not any(outcome.changed for outcome in result.outcomes)
    # and the history was worth replaying: splits, backorders, several locations
    assert any(o.replay.parcels > 1 for o in result.outcomes)
    assert any(o.replay.unfilled for o in result.outcomes)
    assert len({code for o in result.outcomes for code in o.replay.locations}) >= 3
    summary = summary_of(result)
    assert summary["changed"] == 0
    assert summary["real"] == summary["replay"]


def test_the_real_figures_are_what_capture_recorded(seeded):
    # given
    history = history_load(start=seeded.start, end=seeded.end)
    # when
    result = replay(history, live_policy())
    # then: unfilled units are those capture left waiting
    for outcome, order in zip(result.outcomes, seeded.orders, strict=True):
        order.refresh_from_db()
        wanted = sum(line.quantity for line in order.lines.all())
        held = sum(
            a.quantity
            for a in Allocation.objects.filter(order_line__order=order)
            if a.created_at == order.created_at
        )
        assert (outcome.real.units, outcome.real.unfilled) == (held, wanted - held)
        if order.promised_date is not None and outcome.real.unfilled == 0:
            assert outcome.real.on_time is True


def test_a_policy_that_excludes_a_location_never_uses_it(seeded):
    # given: the real history used Marseille
    history = history_load(start=seeded.start, end=seeded.end)
    marseille = seeded.locations["DC-MARSEILLE"]
    live = replay(history, live_policy())
    assert any(marseille.code in o.real.locations for o in live.outcomes)
    policy = replace(live_policy(), exclusions=(Exclusion(marseille.code),))
    # when
    result = replay(history_load(start=seeded.start, end=seeded.end), policy)
    # then
    assert not any(marseille.code in o.replay.locations for o in result.outcomes)
    assert any(o.changed for o in result.outcomes)
    summary = summary_of(result)
    by_location = {row["location"]: row for row in summary["by_location"]}
    assert by_location[marseille.code]["replay"]["units"] == 0
    assert by_location[marseille.code]["real"]["units"] > 0


def test_an_exclusion_for_some_days_only_applies_on_those_days(seeded):
    # given: Marseille excluded from after the period
    history = history_load(start=seeded.start, end=seeded.end)
    later = Exclusion("DC-MARSEILLE", start=seeded.end, end=None)
    # when
    result = replay(history, replace(live_policy(), exclusions=(later,)))
    # then
    assert not any(o.changed for o in result.outcomes)


def test_a_replay_never_promises_more_than_the_stock_it_had(seeded):
    # given: a policy that splits freely, so the replay's plans differ from the real ones
    history = history_load(start=seeded.start, end=seeded.end)
    policy = replace(live_policy(), split_penalty=0.0, strategy="nearest")
    # when
    result = replay(history, policy)
    # then: per stock row, what the replay allocated stays within what it could sell
    received = {}
    for row in history.rows:
        received[(row.product_id, row.location_id)] = row.on_hand - row.allocated
    for move in history.movements:
        for row in history.rows:
            if row.pk == move.stock_id and move.quantity > 0:
                received[(row.product_id, row.location_id)] += move.quantity
    taken = {}
    lines = {o.number: {line.line_no: line.product_id for line in o.lines} for o in history.orders}
    cancelled = {o.number for o in history.orders if o.cancelled_at is not None}
    assert cancelled
    for outcome in result.outcomes:
        for (line_no, location_id), units in outcome.replay.picks.items():
            key = (lines[outcome.number][line_no], location_id)
            taken[key] = taken.get(key, 0) + units
            if outcome.number in cancelled:  # its units came back when it was cancelled
                received[key] += units
    assert all(units <= received[key] for key, units in taken.items())
    assert any(o.changed for o in result.outcomes)


def test_counts_and_costs_add_up(seeded):
    # given
    history = history_load(start=seeded.start, end=seeded.end)
    policy = replace(live_policy(), split_penalty=20.0)
    # when
    summary = summary_of(replay(history, policy))
    # then: channels add up to the total, locations too, and orders to each
    for side in ("real", "replay"):
        total = summary[side]
        assert total["orders"] == summary["orders"] == len(seeded.orders)
        for name in ("orders", "units", "unfilled", "parcels", "promised", "on_time"):
            assert sum(row[side][name] for row in summary["by_channel"]) == total[name]
        assert sum(row[side]["cost"] for row in summary["by_channel"]) == pytest.approx(
            total["cost"]
        )
        locations = summary["by_location"]
        assert sum(row[side]["units"] for row in locations) == total["units"]
        assert sum(row[side]["parcels"] for row in locations) == total["parcels"]
        assert sum(row[side]["cost"] for row in locations) == pytest.approx(total["cost"])
        assert sum(row[side]["km"] for row in locations) == pytest.approx(total["km"], abs=0.01)
        wanted = sum(line.quantity for o in history.orders for line in o.lines)
        assert total["units"] + total["unfilled"] == wanted
    assert summary["replay"]["parcels"] <= summary["real"]["parcels"]


def test_the_replays_cost_is_the_engines_cost_less_the_split_penalty(seeded):
    # given
    history = history_load(start=seeded.start, end=seeded.end)
    # when
    result = replay(history, live_policy())
    # then: the real logistics cost recorded on each order is the replay's plus its penalty
    penalty = live_policy().split_penalty
    for outcome in result.outcomes:
        order = Order.objects.get(number=outcome.number)
        if order.logistics_cost is None:
            assert outcome.replay.units == 0
            continue
        engine = outcome.replay.cost + penalty * max(0, outcome.replay.parcels - 1)
        assert float(order.logistics_cost) == pytest.approx(engine, abs=0.006)


def test_a_replay_writes_nothing(seeded, django_assert_max_num_queries):
    # given
    before = (
        list(StockLevel.objects.values_list("on_hand", "allocated", "reserved")),
        StockMovement.objects.count(),
        Allocation.objects.count(),
    )
    # when: a handful of reads, whatever the number of orders
    with django_assert_max_num_queries(20):
        history = history_load(start=seeded.start, end=seeded.end)
    result = replay(history, replace(live_policy(), split_penalty=0.0, strategy="priority"))
    # then
    assert result.outcomes
    assert before == (
        list(StockLevel.objects.values_list("on_hand", "allocated", "reserved")),
        StockMovement.objects.count(),
        Allocation.objects.count(),
    )
