"""Return alerts (returns not received in time, refunds waiting, products returned often)
with their sentences on the alerts page, and the dashboard's return figures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import STORE_STAFF
from alerts.console.words import alert_in_words
from alerts.models import Alert, AlertPolicy
from alerts.services import alerts_evaluate_orders
from returns.inputs import ReceiveLineInput
from returns.services import return_cancel, return_receive, return_refund
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped, return_of

pytestmark = pytest.mark.django_db


def alerts(kind):
    return list(Alert.objects.filter(kind=kind).order_by("id"))


@pytest.fixture
def world():
    tee, mug = product("TEE-1"), product("MUG-1")
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(tee, paris, 100)
    stocked(mug, paris, 100)
    return tee, mug, paris


def test_a_return_not_received_in_time_alerts_its_location_until_received(world):
    # given: a return expected at a store; the policy allows 14 days
    tee, _, _ = world
    store = StoreFactory(code="ST-RIVOLI")
    ret = return_of(order_shipped([(tee, 2, "19.90")]), [(tee, 2)], location=store)
    now = timezone.now()
    # when: 13 days later, then 15
    alerts_evaluate_orders(now=now + timedelta(days=13))
    assert alerts(Alert.Kind.RETURN_NOT_RECEIVED) == []
    alerts_evaluate_orders(now=now + timedelta(days=15))
    # then
    (alert,) = alerts(Alert.Kind.RETURN_NOT_RECEIVED)
    assert (alert.subject, alert.location_id, alert.order_id) == (
        str(ret.pk),
        store.pk,
        ret.order_id,
    )
    assert alert.details["number"] == ret.number and alert.details["limit_days"] == 14
    assert "Nothing received of return " + ret.number in alert_in_words(alert.kind, alert.details)
    # when: part of it arrives, the alert stays; all of it, and the alert resolves
    return_receive(ret=ret, location=store, lines=[ReceiveLineInput(tee, 1, "restock")])
    alerts_evaluate_orders(now=now + timedelta(days=16))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    assert alert.details["status"] == "partially_received"
    return_receive(ret=ret, location=store, lines=[ReceiveLineInput(tee, 1, "restock")])
    alerts_evaluate_orders(now=now + timedelta(days=17))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_a_cancelled_return_is_not_waited_for(world):
    # given
    tee, _, _ = world
    ret = return_of(order_shipped([(tee, 1, "19.90")]), [(tee, 1)])
    return_cancel(ret=ret)
    # when
    alerts_evaluate_orders(now=timezone.now() + timedelta(days=30))
    # then
    assert alerts(Alert.Kind.RETURN_NOT_RECEIVED) == []


def test_a_received_return_without_refund_alerts_until_the_refund_is_recorded(world):
    # given: received now; the policy allows 3 days to refund
    tee, _, paris = world
    ret = return_of(order_shipped([(tee, 1, "19.90")]), [(tee, 1)])
    return_receive(ret=ret, location=paris, lines=[ReceiveLineInput(tee, 1, "restock")])
    now = timezone.now()
    # when
    alerts_evaluate_orders(now=now + timedelta(days=2))
    assert alerts(Alert.Kind.RETURN_NOT_REFUNDED) == []
    alerts_evaluate_orders(now=now + timedelta(days=4))
    # then
    (alert,) = alerts(Alert.Kind.RETURN_NOT_REFUNDED)
    assert (alert.subject, alert.location_id) == (str(ret.pk), None)
    assert "no refund recorded yet" in alert_in_words(alert.kind, alert.details)
    # when
    return_refund(ret=ret)
    alerts_evaluate_orders(now=now + timedelta(days=5))
    # then
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_a_product_returned_above_the_threshold_alerts_with_its_top_reason(world):
    # given: 20 tees shipped, 6 returned (30 % > 25 %), mostly too small; 20 mugs shipped,
    # 2 returned (10 %)
    tee, mug, _ = world
    orders = [order_shipped([(tee, 2, "19.90"), (mug, 2, "9.50")]) for _ in range(10)]
    return_of(orders[0], [(tee, 2)], reason="too_small")
    return_of(orders[1], [(tee, 2)], reason="too_small")
    return_of(orders[2], [(tee, 2), (mug, 2)], reason="damaged")
    # when
    alerts_evaluate_orders()
    # then
    (alert,) = alerts(Alert.Kind.RETURN_RATE)
    assert (alert.subject, alert.product_id) == (str(tee.pk), tee.pk)
    assert alert.details | {} == {
        "sku": "TEE-1",
        "returned": 6,
        "shipped": 20,
        "top_reason": "too_small",
        "threshold_percent": 25,
        "window_days": 30,
    }
    assert alert_in_words(alert.kind, alert.details) == (
        "6 units returned of 20 shipped in 30 days (30 %, above 25 %); mostly too small."
    )


def test_the_return_rate_waits_for_enough_units_shipped(world):
    # given: 2 of 2 returned, under the 20 units the policy wants before it judges
    tee, _, _ = world
    return_of(order_shipped([(tee, 2, "19.90")]), [(tee, 2)])
    # when
    alerts_evaluate_orders()
    assert alerts(Alert.Kind.RETURN_RATE) == []
    AlertPolicy.objects.filter(pk=1).update(return_rate_min_shipped=2)
    alerts_evaluate_orders()
    # then
    assert len(alerts(Alert.Kind.RETURN_RATE)) == 1


def test_the_dashboard_shows_return_rates_top_products_reasons_refunds_and_restocked_units(
    admin_client_logged, world, django_assert_max_num_queries
):
    # given: 10 tees shipped on web, 4 returned (2 refunded and restocked); 4 mugs on app
    tee, mug, paris = world
    web = [order_shipped([(tee, 2, "19.90")]) for _ in range(5)]
    order_shipped([(mug, 4, "9.50")], channel="app")
    kept = return_of(web[0], [(tee, 2)], reason="too_small")
    return_receive(ret=kept, location=paris, lines=[ReceiveLineInput(tee, 2, "restock")])
    return_refund(ret=kept)
    return_of(web[1], [(tee, 1)], reason="too_small")
    return_of(web[2], [(tee, 1)], reason="damaged")
    # when
    with django_assert_max_num_queries(40):
        response = admin_client_logged.get(reverse("oms_console:dashboard"))
    # then
    assert response.status_code == 200
    figures = response.context["returns"]
    by_channel = {
        rate.code: (rate.shipped, rate.returned, rate.percent) for rate in figures["channels"]
    }
    assert by_channel["web"] == (10, 4, Decimal("40.0"))
    assert by_channel["app"] == (4, 0, Decimal("0.0"))
    (top,) = figures["products"]
    assert (top["rate"].code, top["rate"].returned, top["reason"]) == ("TEE-1", 4, "Too small")
    assert figures["reasons"] == [("Too small", 3), ("Damaged", 1)]
    assert figures["refunds"] == [("EUR", 1, Decimal("39.80"))]
    assert figures["restocked"] == 2
    page = response.content.decode()
    assert "Return rate by channel" in page and "39.80 EUR" in page


def test_store_staff_do_not_get_the_network_return_figures(client, world):
    # given
    store = StoreFactory(code="ST-RIVOLI")
    client.force_login(person("clerk", STORE_STAFF, store))
    # when
    response = client.get(reverse("oms_console:dashboard"))
    # then
    assert response.status_code == 200
    assert "returns" not in response.context
