"""The alerts page as a compact table: product and location names, figures in words, and
bulk acknowledge / snooze of the ticked alerts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import STORE_STAFF
from alerts.console.words import alert_in_words
from alerts.models import Alert
from alerts.services import alert_resolve, alerts_evaluate_stock
from tests.alerts.helpers import set_available
from tests.console.helpers import person
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("alerts_console:list")
BULK = reverse("alerts_console:bulk")


@pytest.fixture
def alerts(global_threshold):
    paris = LocationFactory(code="PARIS", name="Paris depot")
    for sku, units in (("TEE", 1), ("CAP", 2), ("MUG", 0)):
        set_available(ProductFactory(sku=sku, name=f"{sku.title()} product"), paris, units)
    alerts_evaluate_stock()
    return {a.product.sku: a for a in Alert.objects.select_related("product")}


def test_the_table_names_products_and_locations_and_says_the_figures(admin_client_logged, alerts):
    # when
    html = admin_client_logged.get(PAGE).content.decode()
    # then
    row = html.split(f'id="alert-{alerts["TEE"].pk}"')[1].split("</tr>")[0]
    assert "Tee product" in row and "Paris depot" in row
    assert "1 unit available" in row and "threshold of 5" in row
    assert "available</dt>" not in html and "safety_stock" not in html


def test_bulk_acknowledge_moves_every_ticked_alert_and_only_those(admin_client_logged, alerts):
    # given
    ticked = [alerts["TEE"].pk, alerts["CAP"].pk]
    # when
    response = admin_client_logged.post(
        BULK, {"action": "acknowledge", "alert": ticked, "next": "kind=low_stock"}, follow=True
    )
    # then
    assert response.redirect_chain[-1][0] == PAGE + "?kind=low_stock"
    assert "2 alert(s) acknowledged." in [str(m) for m in response.context["messages"]]
    statuses = dict(Alert.objects.values_list("product__sku", "status"))
    assert statuses == {"TEE": "acknowledged", "CAP": "acknowledged", "MUG": "open"}


def test_bulk_snooze_needs_a_day_after_today_and_changes_nothing_without_one(
    admin_client_logged, alerts
):
    # given
    ticked = [a.pk for a in alerts.values()]
    today = timezone.localdate().isoformat()
    later = (timezone.localdate() + timedelta(days=3)).isoformat()
    # when
    refused = admin_client_logged.post(
        BULK, {"action": "snooze", "alert": ticked, "until": today}, follow=True
    )
    assert not Alert.objects.filter(snoozed_until__isnull=False).exists()
    done = admin_client_logged.post(
        BULK, {"action": "snooze", "alert": ticked, "until": later}, follow=True
    )
    # then
    assert any("Snooze until" in str(m) for m in refused.context["messages"])
    assert "3 alert(s) snoozed." in [str(m) for m in done.context["messages"]]
    assert Alert.objects.filter(snoozed_until__isnull=False).count() == 3


def test_a_resolved_alert_in_the_batch_is_named_and_the_others_still_move(
    admin_client_logged, alerts, staff_user
):
    # given
    alert_resolve(alert=alerts["MUG"], actor=staff_user)
    # when
    response = admin_client_logged.post(
        BULK, {"action": "acknowledge", "alert": [a.pk for a in alerts.values()]}, follow=True
    )
    # then
    said = [str(m) for m in response.context["messages"]]
    assert "2 alert(s) acknowledged." in said
    assert any(f"#{alerts['MUG'].pk}" in m and "resolved" in m for m in said)


@pytest.mark.parametrize(
    "data",
    [{}, {"action": "acknowledge"}, {"action": "explode", "alert": "1"}, {"alert": ["x", "-1"]}],
)
def test_bulk_without_ticks_or_action_says_so_and_changes_nothing(
    admin_client_logged, alerts, data
):
    # when
    response = admin_client_logged.post(BULK, data, follow=True)
    # then
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]
    assert set(Alert.objects.values_list("status", flat=True)) == {"open"}


def test_people_who_may_not_change_alerts_cannot_bulk(client, alerts):
    # given
    from django.contrib.auth.models import Group

    viewer = person("viewer", STORE_STAFF)
    viewer.groups.set([Group.objects.create(name="readers")])
    client.force_login(viewer)
    # when
    response = client.post(BULK, {"action": "acknowledge", "alert": [alerts["TEE"].pk]})
    # then
    assert response.status_code == 403
    assert Alert.objects.get(pk=alerts["TEE"].pk).status == "open"


@pytest.mark.parametrize(
    ("kind", "details", "expected"),
    [
        (
            "late_order",
            {"late": True, "promised_date": "2001-02-03", "status": "partially_allocated"},
            "Promised for 3 Feb, now late; still partially allocated.",
        ),
        (
            "network_low_stock",
            {"channel": None, "available": 6, "threshold": 30},
            "6 units available across the network, at or below 30.",
        ),
        (
            "stock_drift",
            {"field": "on_hand", "recorded": 5, "expected": 7, "difference": -2},
            "On hand says 5, the ledger 7 (-2).",
        ),
        ("something_new", {"a_b": 1, "c": None}, "A b 1"),
        ("low_stock", {"available": "x"}, "Available x"),
    ],
)
def test_figures_read_as_words(kind, details, expected):
    assert alert_in_words(kind, details) == expected
