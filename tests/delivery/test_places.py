"""Addresses without coordinates are placed from their postcode or city, offline."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import places
from orders.delivery.promise import distance_km
from orders.models import Order
from tests.delivery.conftest import MONDAY, at, day, paris

pytestmark = pytest.mark.django_db
LYON = (45.75, 4.85)


@pytest.mark.parametrize(
    ("address", "by", "near", "within_km"),
    [
        ({"country": "FR", "postcode": "69003"}, "postcode", LYON, 10),
        ({"country": "fr", "postcode": "75 004"}, "postcode", (48.86, 2.35), 10),
        ({"country": "US", "postcode": "94103"}, "postcode", (37.77, -122.41), 10),
        ({"country": "BE", "postcode": "1000"}, "postcode", (50.85, 4.35), 10),
        ({"country": "FR", "city": "Saint-Étienne"}, "city", (45.43, 4.39), 10),
        # a postcode that does not exist: the city still places it
        ({"country": "FR", "postcode": "00000", "city": "LYON"}, "city", LYON, 10),
    ],
)
def test_it_places_an_address_from_its_postcode_or_city(address, by, near, within_km):
    found = places.place(**address)
    assert found is not None
    assert found.by == by
    assert distance_km(found.lat, found.lon, *near) < within_km


def test_an_address_it_cannot_place_stays_without_a_point():
    assert places.place(country="FR", postcode="00000", city="Nowhere-sur-Rien") is None
    assert places.address_placed({"country": "XX", "city": "Paris"}) == {
        "country": "XX",
        "city": "Paris",
    }


def test_given_coordinates_are_kept_and_said_to_be_given():
    placed = places.address_placed({"country": "FR", "postcode": "69003", "lat": 1.0, "lon": 2.0})
    assert (placed["lat"], placed["lon"], placed["placed_by"]) == (1.0, 2.0, "given")


def test_the_data_ships_inside_the_packages_no_network_is_used(monkeypatch):
    # given: the data not yet read in this process, and no network at all
    monkeypatch.setattr(places, "_city_points", None)
    monkeypatch.setattr(places, "_postcode_points", {})

    def refused(*args, **kwargs):
        raise AssertionError("orders.places tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refused)
    monkeypatch.setattr(socket.socket, "connect", refused)
    monkeypatch.setattr(socket, "getaddrinfo", refused)
    # when
    found = places.place(country="DE", postcode="10115")
    # then
    assert found is not None and found.by == "postcode"


def test_a_quote_with_a_postcode_alone_dates_the_shipped_methods(api, net):
    # given
    body = {
        "channel": "web",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "at": at(MONDAY, 10),
    }
    # when
    placed = api.post(
        reverse("delivery-options"),
        {**body, "destination": {"postcode": "69003", "country": "FR"}},
        format="json",
    )
    unplaced = api.post(
        reverse("delivery-options"),
        {**body, "destination": {"postcode": "", "country": "FR"}},
        format="json",
    )
    # then
    assert placed.status_code == 200, placed.content
    methods = {option["method"] for option in placed.json()["options"]}
    assert {"standard", "express"} <= methods
    assert all(option["promised_date"] for option in placed.json()["options"])
    assert "standard" not in {option["method"] for option in unplaced.json()["options"]}


def test_the_console_quote_takes_a_postcode_alone(admin_client_logged, net):
    moment = timezone.localtime(paris(day(0), 10))
    page = admin_client_logged.get(
        reverse("orders_console:quote"),
        {
            "channel": "web",
            "basket": "TEE 1",
            "postcode": "69003",
            "country": "FR",
            "at": moment.strftime("%Y-%m-%d %H:%M"),
        },
    )
    assert page.status_code == 200
    offered = {option.method for option in page.context["quote"].options}
    assert "standard" in offered


def test_an_api_order_without_coordinates_is_placed_and_says_how(api, net):
    body = {
        "channel": "web",
        "external_id": "NO-POINT-1",
        "customer": {"email": "a@example.com"},
        "shipping_address": {
            "line1": "1 rue de la République",
            "city": "Lyon",
            "postcode": "69002",
            "country": "FR",
        },
        "currency": "EUR",
        "lines": [{"sku": "TEE", "quantity": 1}],
    }
    assert api.post(reverse("orders"), body, format="json").status_code == 201
    order = Order.objects.get(external_id="NO-POINT-1")
    assert order.ship_placed_by == "postcode"
    assert distance_km(order.ship_lat, order.ship_lon, *LYON) < 10
