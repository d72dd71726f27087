"""POST/GET /api/v1/locations/ and /api/v1/locations/{code}/."""

from datetime import time
from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Location
from tests.factories import LocationFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = reverse("locations")


def _body(**overrides) -> dict:
    body = {
        "code": "ST-LYON",
        "name": "Lyon Part-Dieu",
        "kind": "store",
        "lat": 45.7606,
        "lon": 4.859,
        "ships": False,
        "click_and_collect": True,
        "priority": 120,
        "shipment_cost": "8.90",
        "cost_per_km": "0.0075",
        "unit_cost": "1.4",
        "processing_days": 1,
        "cutoff_time": "12:30",
    }
    body.update(overrides)
    return body


def test_it_creates_a_location_with_every_contract_field(api):
    # when
    response = api.post(URL, _body(), format="json")
    # then
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in _body()} == {
        **_body(),
        "unit_cost": "1.40",
    }
    assert "id" not in body
    location = Location.objects.get(code="ST-LYON")
    assert location.kind == Location.Kind.STORE
    assert (location.click_and_collect, location.ships) == (True, False)
    assert location.unit_cost == Decimal("1.40")
    assert location.cost_per_km == Decimal("0.0075")
    assert location.cutoff_time == time(12, 30)


def test_optional_fields_take_their_defaults(api):
    # when
    response = api.post(
        URL, {"code": "DC", "name": "DC", "kind": "warehouse", "lat": 1, "lon": 2}, format="json"
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert (body["ships"], body["click_and_collect"], body["priority"]) == (True, False, 100)
    assert (body["shipment_cost"], body["cutoff_time"]) == ("0.00", "14:00")
    assert Location.objects.filter(code="DC", processing_days=1).exists()


def test_a_duplicate_code_is_a_400_on_code(api):
    # given
    LocationFactory(code="ST-LYON", name="First")
    # when
    response = api.post(URL, _body(), format="json")
    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["code"]
    assert Location.objects.get(code="ST-LYON").name == "First"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"code": ""}, "code"),
        ({"code": "HAS SPACE"}, "code"),
        ({"code": "a/b"}, "code"),
        ({"kind": "shop"}, "kind"),
        ({"lat": 91}, "lat"),
        ({"lat": "48.1"}, "lat"),
        ({"lat": True}, "lat"),
        ({"lon": -181}, "lon"),
        ({"lon": None}, "lon"),
        ({"ships": "maybe"}, "ships"),
        ({"priority": 1.5}, "priority"),
        ({"priority": 2**64}, "priority"),
        ({"shipment_cost": "-0.01"}, "shipment_cost"),
        ({"cost_per_km": "0.00001"}, "cost_per_km"),
        ({"unit_cost": "NaN"}, "unit_cost"),
        ({"processing_days": -1}, "processing_days"),
        ({"cutoff_time": "25:00"}, "cutoff_time"),
        ({"cutoff_time": 1400}, "cutoff_time"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"country": "France"}, "country"),
    ],
)
def test_a_bad_field_is_a_400_naming_it(api, overrides, field):
    # when
    response = api.post(URL, _body(**overrides), format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Location.objects.exists()


def test_it_lists_locations_and_filters_them(api, django_assert_max_num_queries):
    # given
    LocationFactory(code="DC-1")
    StoreFactory(code="ST-1")
    StoreFactory(code="ST-2", active=False)
    # when
    with django_assert_max_num_queries(3):
        everything = api.get(URL).json()
    stores = api.get(URL, {"kind": "store", "active": "true"}).json()
    # then
    assert [loc["code"] for loc in everything["results"]] == ["DC-1", "ST-1", "ST-2"]
    assert [loc["code"] for loc in stores["results"]] == ["ST-1"]


def test_a_bad_filter_value_is_a_400(api):
    # when
    response = api.get(URL, {"kind": "castle"})
    # then
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_it_shows_one_location_by_code_with_money_as_strings(api):
    # given
    LocationFactory(code="DC-1", shipment_cost="5.00")
    # when
    response = api.get(reverse("location-detail", args=["DC-1"]))
    # then
    assert response.status_code == 200
    assert response.json()["shipment_cost"] == "5.00"
    assert response.json()["currency"] == "EUR"


def test_an_unknown_code_is_a_404(api):
    # when
    response = api.get(reverse("location-detail", args=["NOPE"]))
    # then
    assert response.status_code == 404


def test_patch_changes_the_fields_given(api):
    # given
    LocationFactory(code="DC-1", priority=100, ships=True)
    # when
    response = api.patch(
        reverse("location-detail", args=["DC-1"]),
        {"priority": 5, "ships": False, "cutoff_time": "16:00"},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert (response.json()["priority"], response.json()["cutoff_time"]) == (5, "16:00")
    location = Location.objects.get(code="DC-1")
    assert (location.priority, location.ships, location.cutoff_time) == (5, False, time(16, 0))


def test_without_a_token_it_is_a_401(anonymous_api):
    # when
    response = anonymous_api.post(URL, _body(), format="json")
    # then
    assert response.status_code == 401
    assert not Location.objects.exists()
