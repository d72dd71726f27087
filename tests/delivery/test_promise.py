"""The pure promise calculator (orders.delivery.promise): no database."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from orders.delivery.promise import (
    Calendar,
    Days,
    NoOpenDay,
    Service,
    Shipment,
    distance_km,
    shipped_promise,
    transfer_ready_on,
)

PARIS = ZoneInfo("Europe/Paris")
# Monday 2 March 2026; Paris is UTC+1 in winter.
MONDAY = date(2026, 3, 2)
WAREHOUSE = Calendar("Europe/Paris", time(16, 0), 1, Days(frozenset({6, 7})))
STORE = Calendar("Europe/Paris", time(12, 0), 0, Days(frozenset({7})))
STANDARD = Service("colissimo", "standard", ((300, 2), (800, 3)), Days(frozenset({7})))


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def test_an_order_just_before_the_cutoff_is_taken_that_day():
    assert WAREHOUSE.taken_on(paris(MONDAY, 15, 59)) == MONDAY
    assert WAREHOUSE.dispatch_on(paris(MONDAY, 15, 59)) == date(2026, 3, 3)


def test_an_order_at_or_just_after_the_cutoff_counts_from_the_next_open_day():
    assert WAREHOUSE.taken_on(paris(MONDAY, 16, 0)) == date(2026, 3, 3)
    assert WAREHOUSE.dispatch_on(paris(MONDAY, 16, 1)) == date(2026, 3, 4)


def test_weekends_are_skipped_when_counting_processing_days():
    # given: Friday before the cutoff, one processing day, closed Saturday and Sunday
    friday = date(2026, 3, 6)
    # then: dispatched on Monday
    assert WAREHOUSE.dispatch_on(paris(friday, 10)) == date(2026, 3, 9)
    # and an order on Saturday counts from Monday, dispatched Tuesday
    assert WAREHOUSE.dispatch_on(paris(date(2026, 3, 7), 10)) == date(2026, 3, 10)


def test_a_public_holiday_is_not_an_open_day():
    # given: Tuesday 3 March closed
    calendar = Calendar(
        "Europe/Paris", time(16, 0), 1, Days(frozenset({6, 7}), frozenset({date(2026, 3, 3)}))
    )
    # then: Monday's order is dispatched on Wednesday
    assert calendar.dispatch_on(paris(MONDAY, 9)) == date(2026, 3, 4)
    # and an order placed on the holiday counts from Wednesday
    assert calendar.taken_on(paris(date(2026, 3, 3), 9)) == date(2026, 3, 4)


def test_the_cutoff_is_read_in_the_locations_time_zone():
    # given: 11:30 UTC on Monday = 12:30 in Paris, 06:30 in New York
    at = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
    new_york = Calendar("America/New_York", time(12, 0), 0, Days(frozenset({7})))
    # then: past the Paris store's noon cutoff, before New York's
    assert STORE.ready_on(at) == date(2026, 3, 3)
    assert new_york.ready_on(at) == MONDAY


def test_the_local_day_can_differ_from_the_utc_day():
    # given: 23:30 UTC on Monday is already Tuesday 00:30 in Paris
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert STORE.taken_on(at) == date(2026, 3, 3)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        STORE.taken_on(datetime(2026, 3, 2, 10, 0))


def test_transit_days_come_from_the_band_of_the_distance_and_skip_carrier_days_off():
    # given: dispatched Friday, 2 days within 300 km, 3 up to 800, no delivery on Sunday
    friday = date(2026, 3, 6)
    assert STANDARD.delivered_on(friday, 299.9) == date(2026, 3, 9)  # Sat, (Sun skipped) Mon
    assert STANDARD.delivered_on(friday, 300.1) == date(2026, 3, 10)
    assert STANDARD.delivered_on(friday, 800.1) is None  # beyond the last band


def test_a_split_plan_is_dated_by_its_slowest_parcel():
    # given: a parcel 100 km away and one 500 km away, both from the warehouse on Monday
    near, far = Shipment(WAREHOUSE, 100), Shipment(WAREHOUSE, 500)
    day, chosen = shipped_promise([near, far], [STANDARD], paris(MONDAY, 10))
    # then: dispatched Tuesday; 2 days -> Thursday, 3 days -> Friday
    assert chosen[0][1] == date(2026, 3, 5)
    assert day == date(2026, 3, 6)


def test_the_fastest_service_of_a_method_wins():
    slow = Service("slow", "standard", ((1000, 4),))
    day, chosen = shipped_promise([Shipment(WAREHOUSE, 50)], [slow, STANDARD], paris(MONDAY, 10))
    assert chosen[0][0].code == "colissimo"
    assert day == date(2026, 3, 5)


def test_a_transfer_makes_the_basket_ready_when_the_parcel_reaches_an_open_store_day():
    # given: part of the basket travels 400 km from the warehouse on Friday morning
    friday = date(2026, 3, 6)
    ready = transfer_ready_on(STORE, [Shipment(WAREHOUSE, 400)], [STANDARD], paris(friday, 9))
    # then: dispatched Monday (warehouse shut at weekends), 3 carrier days -> Thursday
    assert ready == date(2026, 3, 12)
    # and without a transfer the store has it ready that same Friday
    assert transfer_ready_on(STORE, [], [STANDARD], paris(friday, 9)) == friday


def test_a_calendar_closed_all_year_cannot_promise():
    shut = Calendar("Europe/Paris", time(12, 0), 0, Days(frozenset({1, 2, 3, 4, 5, 6, 7})))
    with pytest.raises(NoOpenDay):
        shut.taken_on(paris(MONDAY, 9))


def test_distance_is_great_circle_kilometres():
    assert distance_km(48.8566, 2.3522, 45.7640, 4.8357) == pytest.approx(392, abs=2)
