"""Replenish stores: which store rows are short, from which location, the proposals a run
writes, and what confirming or dismissing one does."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from supply.exceptions import InvalidTransition, LinesShort
from supply.models import ReplenishmentProposal, ReplenishmentRun, Transfer
from supply.services.replenishment import (
    replenishment_proposal_confirm,
    replenishment_proposal_dismiss,
    replenishment_run,
)
from supply.services.transfers import TransferLineInput, transfer_create
from tests.alerts.helpers import set_available, ship
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

Status = ReplenishmentProposal.Status


def run_now(**kwargs) -> ReplenishmentRun:
    return replenishment_run(run_id=ReplenishmentRun.objects.create().pk, **kwargs)


def selling(product, store, *, per_day: int, left: int) -> None:
    """`store` shipped `per_day` units a day over the 28-day window and has `left` now."""
    now = timezone.now()
    set_available(product, store, per_day * 28 + left)
    ship(product, store, per_day * 28, at=now - timedelta(days=3))


def proposals() -> list[ReplenishmentProposal]:
    return list(
        ReplenishmentProposal.objects.filter(status=Status.PROPOSED)
        .select_related("source", "destination")
        .order_by("destination__code", "source__code")
    )


def lines_of(proposal) -> list[tuple[str, int, int, int]]:
    return [
        (line.product.sku, line.quantity, line.position, line.target)
        for line in proposal.proposed_lines.select_related("product").order_by("id")
    ]


@pytest.fixture
def tee():
    return ProductFactory(sku="TEE")


@pytest.fixture
def rivoli():
    return StoreFactory(code="ST-RIVOLI", lat=48.8606, lon=2.3376)


@pytest.fixture
def dc_paris():
    # 20 km from the store, a dearer parcel than Lille's, but Lille is 200 km away.
    return LocationFactory(
        code="DC-PARIS", lat=48.70, lon=2.40, shipment_cost="6.00", cost_per_km="0.05"
    )


@pytest.fixture
def dc_lille():
    return LocationFactory(
        code="DC-LILLE", lat=50.63, lon=3.06, shipment_cost="4.00", cost_per_km="0.05"
    )


def test_a_store_under_its_line_gets_a_proposal_from_the_cheapest_location(
    tee, rivoli, dc_paris, dc_lille
):
    # given: 2 a day, 10 left: 5 days of cover, under lead 7 + margin 3
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    set_available(tee, dc_lille, 100)

    # when
    run = run_now()

    # then: cover for 7 + 3 + 14 days at 2 a day is 48 units: 38 from DC-PARIS
    # (6 + 0.05 × 20 km beats 4 + 0.05 × 200 km)
    (proposal,) = proposals()
    assert (proposal.source.code, proposal.destination.code) == ("DC-PARIS", "ST-RIVOLI")
    assert lines_of(proposal) == [("TEE", 38, 10, 48)]
    assert (proposal.lines, proposal.units) == (1, 38)
    assert 7 < float(proposal.cost) < 8 + 0.3 * 38 + 0.5  # parcel + 38 units at 0.30
    assert (run.status, run.short_rows, run.short_units, run.unmet_units) == ("done", 1, 38, 0)
    assert (run.proposals, run.lines, run.units) == (1, 1, 38)
    # Nothing is held until a person confirms.
    assert StockLevel.objects.get(product=tee, location=dc_paris).allocated == 0


def test_units_on_their_way_count_towards_the_store(tee, rivoli, dc_paris):
    # given: 10 left, and 30 requested from DC-PARIS already (held there)
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    transfer_create(
        source=dc_paris, destination=rivoli, lines=[TransferLineInput(product=tee, quantity=30)]
    )

    # when
    run = run_now()

    # then: 40 units cover 20 days, above the line
    assert proposals() == []
    assert run.short_rows == 0


def test_a_location_keeps_its_own_cover_and_a_quiet_one_spares_everything(tee, rivoli, dc_paris):
    # given: DC-PARIS ships 1 a day itself: it keeps 24 of its 30 (cover for 24 days)
    selling(tee, rivoli, per_day=2, left=10)
    selling(tee, dc_paris, per_day=1, left=30)

    # when
    run = run_now()

    # then: only 6 can move; the rest is unmet
    (proposal,) = proposals()
    assert lines_of(proposal) == [("TEE", 6, 10, 48)]
    assert run.unmet_units == 32


def test_stores_sharing_a_source_are_served_fewest_days_first_then_take_the_next_lane(
    tee, dc_paris, dc_lille
):
    # given: two stores near Paris, both short; DC-PARIS spares 50, DC-LILLE 100
    rivoli = StoreFactory(code="ST-RIVOLI", lat=48.8606, lon=2.3376)
    marais = StoreFactory(code="ST-MARAIS", lat=48.8590, lon=2.3600)
    selling(tee, rivoli, per_day=2, left=10)  # 5 days of cover: short 38
    selling(tee, marais, per_day=2, left=4)  # 2 days: short 44, served first
    set_available(tee, dc_paris, 50)
    set_available(tee, dc_lille, 100)

    # when
    run = run_now()

    # then: MARAIS takes 44 from DC-PARIS, RIVOLI the other 6 and 32 from DC-LILLE
    got = {(p.source.code, p.destination.code): lines_of(p)[0][1] for p in proposals()}
    assert got == {
        ("DC-PARIS", "ST-MARAIS"): 44,
        ("DC-PARIS", "ST-RIVOLI"): 6,
        ("DC-LILLE", "ST-RIVOLI"): 32,
    }
    assert (run.short_units, run.units, run.unmet_units) == (82, 82, 0)


def test_a_store_short_itself_spares_nothing_to_another(tee, dc_paris):
    # given: two short stores and no warehouse stock
    rivoli = StoreFactory(code="ST-RIVOLI", lat=48.8606, lon=2.3376)
    marais = StoreFactory(code="ST-MARAIS", lat=48.8590, lon=2.3600)
    selling(tee, rivoli, per_day=2, left=10)
    selling(tee, marais, per_day=2, left=4)

    # when
    run = run_now()

    # then
    assert proposals() == []
    assert (run.short_rows, run.unmet_units) == (2, 82)


def test_a_new_run_replaces_the_proposals_nobody_confirmed(tee, rivoli, dc_paris):
    # given
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    (first,) = (run_now(), proposals())[1]

    # when
    run_now()

    # then
    first.refresh_from_db()
    assert first.status == Status.SUPERSEDED
    assert len(proposals()) == 1


def test_confirming_a_proposal_requests_the_transfer_once(tee, rivoli, dc_paris, staff_user):
    # given
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    run_now()
    (proposal,) = proposals()

    # when
    transfer = replenishment_proposal_confirm(proposal_id=proposal.pk, actor=staff_user)

    # then: the real transfer, its units held at DC-PARIS
    proposal.refresh_from_db()
    assert (proposal.status, proposal.transfer, proposal.decided_by) == (
        Status.CONFIRMED,
        transfer,
        staff_user,
    )
    assert (transfer.source, transfer.destination, transfer.status) == (
        dc_paris,
        rivoli,
        "requested",
    )
    assert [(line.product.sku, line.quantity) for line in transfer.lines.all()] == [("TEE", 38)]
    assert transfer.reference == f"replenishment proposal {proposal.pk}"
    assert StockLevel.objects.get(product=tee, location=dc_paris).allocated == 38
    assert stock_drift() == []
    # A second click changes nothing.
    with pytest.raises(InvalidTransition, match="confirmed"):
        replenishment_proposal_confirm(proposal_id=proposal.pk, actor=staff_user)
    assert Transfer.objects.count() == 1
    # And the next run counts the requested units: the store is covered.
    run_now()
    assert proposals() == []


def test_confirming_when_the_source_can_no_longer_spare_changes_nothing(tee, rivoli, dc_paris):
    # given: the proposal is made, then DC-PARIS loses stock
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    run_now()
    (proposal,) = proposals()
    set_available(tee, dc_paris, 20)

    # when
    with pytest.raises(LinesShort) as refused:
        replenishment_proposal_confirm(proposal_id=proposal.pk)

    # then
    assert refused.value.lines == [{"line": 0, "sku": "TEE", "quantity": 38, "available": 20}]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.transfer) == (Status.PROPOSED, None)
    assert Transfer.objects.count() == 0
    assert StockLevel.objects.get(product=tee, location=dc_paris).allocated == 0


def test_dismissing_a_proposal_holds_nothing(tee, rivoli, dc_paris):
    # given
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    run_now()
    (proposal,) = proposals()

    # when
    replenishment_proposal_dismiss(proposal_id=proposal.pk)

    # then
    proposal.refresh_from_db()
    assert proposal.status == Status.DISMISSED
    with pytest.raises(InvalidTransition):
        replenishment_proposal_confirm(proposal_id=proposal.pk)
    assert Transfer.objects.count() == 0


def test_a_run_delivered_twice_works_once(tee, rivoli, dc_paris):
    # given
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)
    run = run_now()

    # when
    again = replenishment_run(run_id=run.pk)

    # then
    assert again.status == "done"
    assert ReplenishmentProposal.objects.count() == 1


def test_the_command_proposes_and_says_what_it_found(tee, rivoli, dc_paris, capsys):
    # given
    selling(tee, rivoli, per_day=2, left=10)
    set_available(tee, dc_paris, 100)

    # when
    call_command("replenish_stores")

    # then
    out = capsys.readouterr().out
    assert "1 store rows under their reorder line, 38 units short" in out
    assert "proposed 1 transfers (1 lines, 38 units)" in out
    assert len(proposals()) == 1
