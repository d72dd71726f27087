"""The Alerts part of docs/api.md: rules, the list with its filters, acknowledge."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from alerts.models import Alert, StockRule
from alerts.services import alert_resolve, alerts_evaluate_stock
from tests.alerts.helpers import set_available
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

RULES = reverse("alert-rules-low-stock")
ALERTS = reverse("alerts")


@pytest.fixture
def low(global_threshold):
    """Two low-stock alerts: TEE at PARIS and CAP at LYON."""
    tee, cap = ProductFactory(sku="TEE"), ProductFactory(sku="CAP")
    paris, lyon = LocationFactory(code="PARIS"), LocationFactory(code="LYON")
    set_available(tee, paris, 1)
    set_available(cap, lyon, 2)
    set_available(tee, lyon, 50)
    set_available(cap, paris, 50)
    alerts_evaluate_stock()
    return {a.product.sku: a for a in Alert.objects.select_related("product")}


def test_posting_a_rule_sets_the_threshold_of_a_product_at_a_location(alerts_api):
    # given
    ProductFactory(sku="TEE")
    LocationFactory(code="PARIS")

    # when
    response = alerts_api.post(
        RULES, {"sku": "TEE", "location": "PARIS", "threshold": 4}, format="json"
    )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("scope", "sku", "location", "threshold")} == {
        "scope": "place",
        "sku": "TEE",
        "location": "PARIS",
        "threshold": 4,
    }
    rule = StockRule.objects.get()
    assert (rule.product.sku, rule.location.code, rule.threshold) == ("TEE", "PARIS", 4)


def test_posting_the_same_pair_again_replaces_its_threshold_and_defaults_take_nulls(alerts_api):
    # given
    ProductFactory(sku="TEE")
    alerts_api.post(RULES, {"sku": "TEE", "location": None, "threshold": 4}, format="json")

    # when
    again = alerts_api.post(RULES, {"sku": "TEE", "location": None, "threshold": 9}, format="json")
    default = alerts_api.post(RULES, {"sku": None, "location": None, "threshold": 2}, format="json")

    # then
    assert (again.status_code, default.status_code) == (201, 201)
    assert sorted(StockRule.objects.values_list("scope", "threshold")) == [
        ("global", 2),
        ("product", 9),
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sku": "NOPE", "location": None, "threshold": 1}, "sku"),
        ({"sku": None, "location": "NOWHERE", "threshold": 1}, "location"),
        ({"sku": None, "location": None, "threshold": -1}, "threshold"),
        ({"sku": None, "location": None, "threshold": "many"}, "threshold"),
        ({"sku": None, "location": None}, "threshold"),
        ({"location": None, "threshold": 1}, "sku"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field_and_nothing_is_saved(alerts_api, body, field):
    # when
    response = alerts_api.post(RULES, body, format="json")

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not StockRule.objects.exists()


def test_the_list_answers_the_fields_of_the_contract(alerts_api, low):
    # when
    response = alerts_api.get(ALERTS, {"sku": "TEE"})

    # then
    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert set(item) == {
        "id", "kind", "status", "sku", "location", "order", "opened_at", "details",
    }  # fmt: skip
    assert item["id"] == low["TEE"].pk
    assert (item["kind"], item["status"], item["sku"], item["location"], item["order"]) == (
        "low_stock",
        "open",
        "TEE",
        "PARIS",
        None,
    )
    assert item["details"]["available"] == 1 and item["details"]["threshold"] == 5
    assert item["opened_at"].endswith(("Z", "+00:00", "+01:00", "+02:00"))


def test_the_list_filters_by_kind_status_location_and_sku(alerts_api, low):
    # given
    alert_resolve(alert=low["CAP"], actor=None)

    def skus(**query):
        return sorted(a["sku"] for a in alerts_api.get(ALERTS, query).json()["results"])

    # then
    assert skus() == ["CAP", "TEE"]
    assert skus(location="LYON") == ["CAP"]
    assert skus(status="open") == ["TEE"]
    assert skus(status="resolved") == ["CAP"]
    assert skus(kind="low_stock", sku="CAP") == ["CAP"]
    assert skus(kind="late_order") == []


@pytest.mark.parametrize("query, field", [({"kind": "fire"}, "kind"), ({"status": "x"}, "status")])
def test_an_unknown_filter_value_is_a_400_naming_it(alerts_api, query, field):
    # when
    response = alerts_api.get(ALERTS, query)

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_staff_of_a_location_see_only_its_alerts(alerts_api, user, low):
    # given
    Membership.objects.create(user=user, location=low["CAP"].location)

    # when
    response = alerts_api.get(ALERTS)

    # then
    assert [a["sku"] for a in response.json()["results"]] == ["CAP"]
    other = reverse("alert-acknowledge", args=[low["TEE"].pk])
    assert alerts_api.post(other).status_code == 404


def test_acknowledge_answers_200_with_the_alert_and_records_who(alerts_api, user, low):
    # when
    response = alerts_api.post(reverse("alert-acknowledge", args=[low["TEE"].pk]))

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    alert = Alert.objects.get(pk=low["TEE"].pk)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", user)
    # and again: harmless
    assert alerts_api.post(reverse("alert-acknowledge", args=[alert.pk])).status_code == 200


def test_acknowledging_a_resolved_alert_is_a_409_and_an_unknown_one_a_404(alerts_api, low):
    # given
    alert_resolve(alert=low["TEE"], actor=None)

    # when
    resolved = alerts_api.post(reverse("alert-acknowledge", args=[low["TEE"].pk]))
    unknown = alerts_api.post(reverse("alert-acknowledge", args=[999_999]))

    # then
    assert resolved.status_code == 409
    assert unknown.status_code == 404
    assert Alert.objects.get(pk=low["TEE"].pk).status == "resolved"


def test_snooze_and_resolve_endpoints(alerts_api, low):
    # when
    until = (timezone.now() + timedelta(days=2)).isoformat()
    snoozed = alerts_api.post(
        reverse("alert-snooze", args=[low["TEE"].pk]), {"until": until}, format="json"
    )
    past = alerts_api.post(
        reverse("alert-snooze", args=[low["CAP"].pk]),
        {"until": "2001-01-01T00:00:00+00:00"},
        format="json",
    )
    resolved = alerts_api.post(reverse("alert-resolve", args=[low["CAP"].pk]))

    # then
    assert snoozed.status_code == 200
    assert Alert.objects.get(pk=low["TEE"].pk).snoozed_until is not None
    assert past.status_code == 400 and "until" in past.json()["errors"]
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"


def test_anonymous_callers_get_nothing(anonymous_api, low):
    assert anonymous_api.get(ALERTS).status_code == 401
