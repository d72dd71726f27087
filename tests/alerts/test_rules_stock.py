"""The stock rules, evaluated set-based: low stock, days of cover, network totals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation.stock import EVERYTHING, StockScope
from alerts.models import Alert, AlertPolicy, NetworkRule, StockRule
from alerts.selectors import alerts_waiting_count
from alerts.services import alert_snooze, alerts_evaluate_stock, alerts_sweep
from inventory.models import StockLevel
from orders.services.reservations import ReservedLine, reservation_create
from outbox.models import OutboxEvent
from tests.alerts.helpers import set_available, ship
from tests.factories import ChannelFactory, LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

LOW = Alert.Kind.LOW_STOCK


def rule(threshold, *, product=None, location=None, lead_time_days=None):
    scope = {
        (True, True): "place",
        (True, False): "product",
        (False, True): "location",
        (False, False): "global",
    }[(product is not None, location is not None)]
    return StockRule.objects.create(
        scope=scope,
        product=product,
        location=location,
        threshold=threshold,
        lead_time_days=lead_time_days,
    )


def low_alerts():
    return list(Alert.objects.filter(kind=LOW).order_by("id"))


def test_low_stock_opens_at_the_threshold_and_resolves_above_it():
    # given
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    set_available(tee, paris, 6)
    alerts_evaluate_stock()
    assert low_alerts() == []

    # when: available falls to the threshold
    set_available(tee, paris, 5)
    alerts_evaluate_stock()

    # then
    (alert,) = low_alerts()
    assert (alert.status, alert.product_id, alert.location_id) == ("open", tee.pk, paris.pk)
    assert alert.details["available"] == 5 and alert.details["threshold"] == 5

    # when: it rises above again
    set_available(tee, paris, 6)
    alerts_evaluate_stock()

    # then
    alert.refresh_from_db()
    assert (alert.status, alert.resolution) == ("resolved", "cleared")
    assert alert.resolved_at is not None


def test_repeated_sweeps_keep_one_alert_and_refresh_its_figures():
    # given
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    set_available(tee, paris, 4)

    # when
    alerts_sweep()
    alerts_sweep()
    set_available(tee, paris, 2)
    alerts_sweep()

    # then
    (alert,) = low_alerts()
    assert alert.status == "open"
    assert alert.details["available"] == 2


@pytest.mark.parametrize(
    "rules, expected",
    [
        (["global"], ("global", 10)),
        (["global", "location"], ("location", 20)),
        (["global", "location", "product"], ("product", 30)),
        (["global", "location", "product", "place"], ("place", 40)),
        (["place", "global"], ("place", 40)),
    ],
)
def test_the_most_specific_threshold_wins(rules, expected):
    # given: on hand 50 at PARIS; thresholds 10 global, 20 location, 30 product, 40 place
    tee, paris, lyon = ProductFactory(sku="TEE"), LocationFactory(code="PARIS"), None
    lyon = LocationFactory(code="LYON")
    set_available(tee, paris, 1)
    set_available(tee, lyon, 1)
    made = {
        "global": lambda: rule(10),
        "location": lambda: rule(20, location=paris),
        "product": lambda: rule(30, product=tee),
        "place": lambda: rule(40, product=tee, location=paris),
    }
    for name in rules:
        made[name]()

    # when
    alerts_evaluate_stock()

    # then
    paris_alert = Alert.objects.get(kind=LOW, location=paris)
    assert (paris_alert.details["rule"], paris_alert.details["threshold"]) == expected


def test_a_blank_threshold_falls_back_to_a_less_specific_rule():
    # given: the product's rule only sets a lead time
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(3)
    StockRule.objects.create(scope="product", product=tee, threshold=None, lead_time_days=9)
    set_available(tee, paris, 3)

    # when
    alerts_evaluate_stock()

    # then
    assert Alert.objects.get(kind=LOW).details["rule"] == "global"


def test_no_rule_means_no_low_stock_alert_and_inactive_places_are_left_out():
    # given
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    closed = LocationFactory(code="CLOSED", active=False)
    set_available(tee, paris, 0)
    set_available(tee, closed, 0)
    alerts_evaluate_stock()
    assert low_alerts() == []

    # when
    rule(0)
    alerts_evaluate_stock()

    # then
    assert [a.location_id for a in low_alerts()] == [paris.pk]


def test_a_condition_back_within_the_quiet_period_reopens_the_same_alert_quietly():
    # given: an alert that opened (one stock.low event) and cleared
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    start = timezone.now()
    set_available(tee, paris, 5)
    alerts_evaluate_stock(now=start)
    set_available(tee, paris, 6)
    alerts_evaluate_stock(now=start + timedelta(minutes=1))
    assert OutboxEvent.objects.filter(event="stock.low").count() == 1

    # when: stock dips again ten minutes later (quiet period: 60 minutes)
    set_available(tee, paris, 5)
    alerts_evaluate_stock(now=start + timedelta(minutes=10))

    # then: the same alert is open again, with no second event
    (alert,) = low_alerts()
    assert (alert.status, alert.reopened, alert.resolved_at) == ("open", 1, None)
    assert OutboxEvent.objects.filter(event="stock.low").count() == 1

    # when: it clears, and comes back after the quiet period
    set_available(tee, paris, 6)
    alerts_evaluate_stock(now=start + timedelta(minutes=11))
    set_available(tee, paris, 4)
    alerts_evaluate_stock(now=start + timedelta(minutes=90))

    # then: a new alert, told again
    assert [a.status for a in low_alerts()] == ["resolved", "open"]
    assert OutboxEvent.objects.filter(event="stock.low").count() == 2


def test_a_new_low_stock_alert_writes_the_stock_low_event_with_its_figures():
    # given
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    set_available(tee, paris, 2)

    # when
    alerts_evaluate_stock()

    # then
    event = OutboxEvent.objects.get(event="stock.low")
    alert = Alert.objects.get(kind=LOW)
    assert event.location_id == paris.pk
    assert event.data == {
        "alert": alert.pk,
        "sku": "TEE",
        "location": "PARIS",
        "available": 2,
        "threshold": 5,
    }


def test_days_of_cover_come_from_shipped_units_in_the_window():
    # given: 28-day window; 56 units shipped in it (2 a day), 100 shipped before it
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    now = timezone.now()
    set_available(tee, paris, 300)
    ship(tee, paris, 100, at=now - timedelta(days=40))
    ship(tee, paris, 30, at=now - timedelta(days=20))
    ship(tee, paris, 26, at=now - timedelta(days=1))
    # 19 left: 9.5 days of cover; lead time 7 + margin 3 = 10
    set_available(tee, paris, 19)

    # when
    alerts_evaluate_stock(now=now)

    # then
    alert = Alert.objects.get(kind=Alert.Kind.DAYS_OF_COVER)
    details = alert.details
    assert details["shipped_units"] == 56
    assert float(details["velocity_per_day"]) == 2.0
    assert float(details["days_of_cover"]) == 9.5
    assert (details["lead_time_days"], details["margin_days"]) == (7, 3)
    # cover for 7 + 3 + 14 review days at 2 a day: 48 units, 19 on hand
    assert details["reorder_quantity"] == 29
    assert details["transfer_from"] is None


@pytest.mark.parametrize("only_paris", [False, True], ids=["sweep", "event for PARIS"])
def test_days_of_cover_suggest_a_transfer_from_the_location_with_most_surplus(only_paris):
    # given: PARIS sells 2 a day and is short; LYON and LILLE hold idle stock
    tee = ProductFactory(sku="TEE")
    paris, lyon, lille = (LocationFactory(code=c) for c in ("PARIS", "LYON", "LILLE"))
    now = timezone.now()
    set_available(tee, paris, 100)
    ship(tee, paris, 56, at=now - timedelta(days=3))
    set_available(tee, paris, 10)
    set_available(tee, lyon, 15)
    set_available(tee, lille, 40)
    # An event names PARIS's row only: the sources are still read across the network.
    scope = StockScope("s.location_id = %s", [paris.pk]) if only_paris else EVERYTHING

    # when
    alerts_evaluate_stock(now=now, scope=scope)

    # then
    details = Alert.objects.get(kind=Alert.Kind.DAYS_OF_COVER, location=paris).details
    assert details["reorder_quantity"] == 38
    assert (details["transfer_from"], details["transfer_quantity"]) == ("LILLE", 38)


def test_an_open_days_of_cover_alert_keeps_its_transfer_and_refreshes_its_figures():
    # given: PARIS short, LILLE with surplus: the alert opens suggesting LILLE
    tee = ProductFactory(sku="TEE")
    paris, lille = LocationFactory(code="PARIS"), LocationFactory(code="LILLE")
    now = timezone.now()
    set_available(tee, paris, 100)
    ship(tee, paris, 56, at=now - timedelta(days=3))
    set_available(tee, paris, 10)
    set_available(tee, lille, 40)
    alerts_evaluate_stock(now=now)

    # when: PARIS sinks further and LILLE empties; the sweep runs again
    set_available(tee, paris, 6)
    set_available(tee, lille, 0)
    alerts_evaluate_stock(now=now)

    # then: one alert; its figures are today's, its suggestion the one it opened with
    (alert,) = Alert.objects.filter(kind=Alert.Kind.DAYS_OF_COVER)
    assert (alert.details["available"], alert.details["reorder_quantity"]) == (6, 42)
    assert (alert.details["transfer_from"], alert.details["transfer_quantity"]) == ("LILLE", 38)


def test_days_of_cover_resolve_only_once_cover_clears_the_band():
    # given: 2 a day, trigger 10 days, band 2 more days
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    now = timezone.now()
    set_available(tee, paris, 100)
    ship(tee, paris, 56, at=now - timedelta(days=2))
    set_available(tee, paris, 19)
    alerts_evaluate_stock(now=now)
    alert = Alert.objects.get(kind=Alert.Kind.DAYS_OF_COVER)

    # when: cover rises to 11 days (above the trigger, inside the band)
    set_available(tee, paris, 22)
    alerts_evaluate_stock(now=now)

    # then: still open
    alert.refresh_from_db()
    assert alert.status == "open"

    # when: 12 days
    set_available(tee, paris, 24)
    alerts_evaluate_stock(now=now)

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"

    # when: back to 11 days: inside the band does not open a new one
    set_available(tee, paris, 22)
    AlertPolicy.objects.filter(pk=1).update(reopen_quiet_minutes=0)
    alerts_evaluate_stock(now=now + timedelta(minutes=1))

    # then
    assert Alert.objects.filter(kind=Alert.Kind.DAYS_OF_COVER).count() == 1
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_network_total_under_its_threshold_opens_one_alert_per_product():
    # given
    tee = ProductFactory(sku="TEE")
    paris, lyon = LocationFactory(code="PARIS"), LocationFactory(code="LYON")
    NetworkRule.objects.create(scope="global", threshold=10)
    set_available(tee, paris, 4)
    set_available(tee, lyon, 6)

    # when
    alerts_evaluate_stock()

    # then
    alert = Alert.objects.get(kind=Alert.Kind.NETWORK_LOW_STOCK)
    assert (alert.product_id, alert.location_id) == (tee.pk, None)
    assert alert.details["available"] == 10 and alert.details["threshold"] == 10

    # when: a receipt lifts the network above it
    set_available(tee, lyon, 7)
    alerts_evaluate_stock()

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_a_channel_rule_counts_its_locations_less_its_buffer():
    # given: the marketplace sells from LYON only and holds 5 units back
    tee = ProductFactory(sku="TEE")
    paris, lyon = LocationFactory(code="PARIS"), LocationFactory(code="LYON")
    marketplace = ChannelFactory(code="mkt", buffer_units=5)
    marketplace.locations.add(lyon)
    NetworkRule.objects.create(scope="channel", channel=marketplace, threshold=10)
    set_available(tee, paris, 100)
    set_available(tee, lyon, 15)

    # when
    alerts_evaluate_stock()

    # then: 15 - 5 = 10 for the channel, at its threshold; the network has no rule
    (alert,) = Alert.objects.filter(kind=Alert.Kind.NETWORK_LOW_STOCK)
    assert alert.subject == f"{tee.pk}#{marketplace.pk}"
    assert alert.details == {"available": 10, "threshold": 10, "channel": "mkt"}


def test_a_snoozed_alert_leaves_the_badge_and_still_resolves_itself(staff_user):
    # given
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    set_available(tee, paris, 1)
    alerts_evaluate_stock()
    alert = Alert.objects.get(kind=LOW)
    assert alerts_waiting_count(staff_user) == 1

    # when
    alert_snooze(alert=alert, until=timezone.now() + timedelta(days=1), actor=staff_user)

    # then
    assert alerts_waiting_count(staff_user) == 0
    assert alerts_waiting_count(staff_user, now=timezone.now() + timedelta(days=2)) == 1

    # when: the stock comes back while snoozed
    set_available(tee, paris, 9)
    alerts_evaluate_stock()

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_allocation_by_an_order_counts_against_available():
    # given
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    set_available(tee, paris, 8)
    StockLevel.objects.filter(product=tee).update(allocated=3)

    # when
    alerts_evaluate_stock()

    # then
    assert Alert.objects.get(kind=LOW).details["available"] == 5


def test_low_stock_counts_an_expired_reservation_as_sellable():
    # given: 6 units above a threshold of 5, all of them held by a basket reservation
    tee, paris = ProductFactory(sku="TEE"), LocationFactory(code="PARIS")
    rule(5)
    set_available(tee, paris, 6)
    reservation = reservation_create(
        channel=ChannelFactory(code="shop"), lines=[ReservedLine(tee, 6)], minutes=15
    )
    alerts_evaluate_stock()
    assert [alert.details["available"] for alert in low_alerts()] == [0]

    # when: the reservation's time passes, before the sweep releases it
    reservation.lines.update(expires_at=timezone.now() - timedelta(minutes=1))
    alerts_evaluate_stock()

    # then: the alert resolves, as sales can take the units again
    (alert,) = low_alerts()
    assert alert.status == "resolved"
