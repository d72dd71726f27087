"""Configuration as code: channels, delivery prices, carrier services and connectors by API."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from connectors.models import Connector
from orders.models import CarrierService, Channel, DeliveryPrice
from tests.orders.helpers import warehouse

pytestmark = pytest.mark.django_db

CONNECTOR = {
    "kind": "shopify",
    "base_url": "https://shop.example.com",
    "webhook_secret": "whsec_0123456789abcd",
    "access_token": "shpat_abcdefghijwxyz",
    "locations": {"DC-PARIS": "gid://shopify/Location/1"},
}


def _client(username: str, *options: str) -> APIClient:
    out = StringIO()
    call_command("create_api_token", username, *options, stdout=out, stderr=StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    return client


@pytest.fixture
def paris():
    return warehouse("DC-PARIS")


def test_it_creates_a_channel_with_its_locations_and_lists_it(api, paris):
    # when
    created = api.post(
        reverse("channels"),
        {
            "code": "shop",
            "name": "Shop",
            "kind": "web",
            "locations": ["DC-PARIS"],
            "return_days": 14,
            "buffer_units": 2,
        },
        format="json",
    )
    listed = api.get(reverse("channels"))
    # then
    assert created.status_code == 201
    body = created.json()
    assert (body["code"], body["kind"], body["locations"], body["return_days"]) == (
        "shop",
        "web",
        ["DC-PARIS"],
        14,
    )
    channel = Channel.objects.get(code="shop")
    assert list(channel.locations.values_list("code", flat=True)) == ["DC-PARIS"]
    assert channel.buffer_units == 2
    assert "shop" in [row["code"] for row in listed.json()["results"]]


def test_a_channel_defaults_to_every_location_and_thirty_return_days(api):
    created = api.post(reverse("channels"), {"code": "app2", "name": "App"}, format="json")
    assert created.status_code == 201
    assert created.json()["locations"] == []
    assert created.json()["return_days"] == 30


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "WEB", "name": "Again"}, "code"),
        ({"code": "x y", "name": "Bad"}, "code"),
        ({"code": "new", "name": "N", "kind": "fax"}, "kind"),
        ({"code": "new", "name": "N", "locations": ["NOWHERE"]}, "locations"),
        ({"code": "new", "name": "N", "return_days": "30"}, "return_days"),
        ({"code": "new", "name": "N", "buffer_percent": "101"}, "buffer_percent"),
        ({"name": "No code"}, "code"),
    ],
)
def test_a_bad_channel_is_a_400_naming_the_field(api, body, field):
    answer = api.post(reverse("channels"), body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not Channel.objects.filter(code="new").exists()


def test_patch_changes_a_channel_and_replaces_its_locations(api, paris):
    lyon = warehouse("DC-LYON")
    channel = Channel.objects.create(code="shop", name="Shop")
    channel.locations.set([lyon])
    answer = api.patch(
        reverse("channel-detail", args=["shop"]),
        {"locations": ["DC-PARIS"], "return_days": 60, "active": False},
        format="json",
    )
    assert answer.status_code == 200
    channel.refresh_from_db()
    assert (channel.return_days, channel.active) == (60, False)
    assert list(channel.locations.values_list("code", flat=True)) == ["DC-PARIS"]
    assert api.patch(reverse("channel-detail", args=["nope"]), {}, format="json").status_code == 404


def test_put_sets_a_delivery_price_and_again_changes_it(api):
    url = reverse("channel-delivery-price", args=["web", "express"])
    first = api.put(url, {"price": "7.90", "currency": "eur", "free_above": "80.00"}, format="json")
    again = api.put(url, {"price": "6.90", "currency": "EUR", "free_above": None}, format="json")
    assert first.status_code == again.status_code == 200
    assert again.json()["price"] == "6.90"
    price = DeliveryPrice.objects.get(channel__code="web", method="express")
    assert (str(price.price), price.currency, price.free_above) == ("6.90", "EUR", None)
    assert (
        api.put(
            reverse("channel-delivery-price", args=["web", "teleport"]),
            {"price": "1.00", "currency": "EUR"},
            format="json",
        ).status_code
        == 404
    )
    bad = api.put(url, {"price": "-1", "currency": "EURO"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"price", "currency"}


def test_put_carrier_service_replaces_its_bands(api):
    url = reverse("carrier-service-detail", args=["colis-48"])
    body = {
        "name": "Colis 48h",
        "method": "standard",
        "active": True,
        "bands": [{"max_km": 800, "days": 2}, {"max_km": 200, "days": 1}],
    }
    assert api.put(url, body, format="json").status_code == 200
    body["bands"] = [{"max_km": 1500, "days": 3}]
    answer = api.put(url, body, format="json")
    assert answer.json()["bands"] == [{"max_km": 1500, "days": 3}]
    service = CarrierService.objects.get(code="colis-48")
    assert list(service.bands.values_list("max_km", "days")) == [(1500, 3)]
    listed = api.get(reverse("carrier-services")).json()["results"]
    assert "colis-48" in [row["code"] for row in listed]
    same_day = dict(body, method="same_day")
    assert api.put(url, same_day, format="json").status_code == 200
    dup = dict(body, bands=[{"max_km": 10, "days": 1}, {"max_km": 10, "days": 2}])
    assert api.put(url, dup, format="json").status_code == 400


def test_put_connector_keeps_the_secrets_sealed_and_shows_their_last_four(api, paris):
    # when
    answer = api.put(reverse("channel-connector", args=["web"]), CONNECTOR, format="json")
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert body["webhook_secret_last4"] == "abcd"
    assert body["access_token_last4"] == "wxyz"
    assert "webhook_secret" not in body and "access_token" not in body
    assert CONNECTOR["webhook_secret"] not in answer.content.decode()
    assert body["locations"] == {"DC-PARIS": "gid://shopify/Location/1"}
    assert body["webhook_url"].endswith("/connectors/web/webhook/")
    connector = Connector.objects.get(channel__code="web")
    assert CONNECTOR["access_token"] not in connector.access_token_sealed
    shown = api.get(reverse("channel-connector", args=["web"])).json()
    assert CONNECTOR["webhook_secret"] not in str(shown)
    assert shown["webhook_secret_last4"] == "abcd"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_url": "https://10.0.0.8/shop"}, "base_url"),
        ({"base_url": "ftp://shop.example.com"}, "base_url"),
        ({"kind": "magento"}, "kind"),
        ({"webhook_secret": "short"}, "webhook_secret"),
        ({"locations": {"NOWHERE": "1"}}, "locations"),
        ({"access_token": None}, "access_token"),
    ],
)
def test_a_bad_connector_is_a_400_naming_the_field_and_keeps_nothing(api, paris, change, field):
    answer = api.put(
        reverse("channel-connector", args=["web"]), {**CONNECTOR, **change}, format="json"
    )
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not Connector.objects.exists()


def test_scoped_tokens_cannot_configure_the_network(paris):
    # given
    storefront = _client("shop-token", "--channel", "web")
    threepl = _client("threepl", "--location", "DC-PARIS")
    answers = []
    for client in (storefront, threepl):
        answers += [
            client.post(reverse("channels"), {"code": "x", "name": "X"}, format="json"),
            client.patch(reverse("channel-detail", args=["web"]), {"name": "Y"}, format="json"),
            client.put(
                reverse("channel-delivery-price", args=["web", "standard"]),
                {"price": "0.00", "currency": "EUR"},
                format="json",
            ),
            client.put(
                reverse("carrier-service-detail", args=["c"]),
                {"name": "C", "method": "express", "bands": []},
                format="json",
            ),
            client.put(reverse("channel-connector", args=["web"]), CONNECTOR, format="json"),
            client.get(reverse("channel-connector", args=["web"])),
        ]
    # then
    assert [a.status_code for a in answers] == [403] * 12
    assert not Channel.objects.filter(code="x").exists()
    assert Channel.objects.get(code="web").name != "Y"
    assert not DeliveryPrice.objects.exists()
    assert not CarrierService.objects.filter(code="c").exists()
    assert not Connector.objects.exists()


def test_a_storefront_token_lists_only_its_channels(paris):
    storefront = _client("shop-token", "--channel", "web")
    codes = [row["code"] for row in storefront.get(reverse("channels")).json()["results"]]
    assert codes == ["web"]
    assert storefront.get(reverse("channel-detail", args=["app"])).status_code == 404
