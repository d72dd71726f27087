"""A key from `create_api_token` works for everything docs/api.md lists.

docs/api.md tells integrators to create keys with `manage.py create_api_token USERNAME`: the
user it makes (the integration role, no location) must get a 2xx on every endpoint of the
contract, as must a superuser's key; a key of a user tied to a location stays there.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.roles import INTEGRATION
from alerts.models import Alert
from fulfilment.models import Fulfilment
from inventory.models import Location, Product, StockLevel
from orders.models import Order, Reservation
from outbox.models import WebhookSubscription


def _client_for(username: str) -> APIClient:
    out = StringIO()
    call_command("create_api_token", username, stdout=out, stderr=StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    return client


def _location(code: str, kind: str, **extra) -> dict:
    return {
        "code": code,
        "name": code.title(),
        "kind": kind,
        "lat": 48.86,
        "lon": 2.34,
        "ships": True,
        "click_and_collect": kind == "store",
        "priority": 1,
        "shipment_cost": "5.00",
        "cost_per_km": "0.0050",
        "unit_cost": "0.30",
        "processing_days": 0,
        "cutoff_time": "23:59",
        **extra,
    }


def _order(external_id: str, **changes) -> dict:
    return {
        "channel": "web",
        "external_id": external_id,
        "customer": {
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "phone": "+33 6 12 34 56 78",
        },
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.8606,
            "lon": 2.3376,
        },
        "delivery_method": "standard",
        "pickup_location": None,
        "currency": "EUR",
        "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "19.90"}],
        **changes,
    }


def _ok(response, status: int = 200):
    assert response.status_code == status, (response.request["PATH_INFO"], response.content)
    return response.json() if response.content else None


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-123")


@pytest.mark.parametrize("who", ["new API user", "superuser"])
def test_a_create_api_token_key_gets_a_2xx_on_every_endpoint_of_the_contract(db, request, who):
    # given
    username = "shop" if who == "new API user" else request.getfixturevalue("superuser").username
    api = _client_for(username)
    post = lambda name, body, *args, **kw: api.post(  # noqa: E731
        reverse(name, args=args), body, format=kw.get("format", "json")
    )
    get = lambda name, *args, **query: api.get(reverse(name, args=args), query)  # noqa: E731
    # when / then: catalogue and network
    _ok(post("products", {"sku": "TEE-1", "name": "Tee"}), 201)
    assert _ok(get("products", sku="TEE-1"))["count"] == 1
    _ok(post("locations", _location("WH-1", "warehouse")), 201)
    _ok(post("locations", _location("ST-1", "store")), 201)
    assert _ok(get("locations"))["count"] == 2
    # stock: movements, counts as JSON and as CSV, availability
    for code in ("WH-1", "ST-1"):
        body = {"sku": "TEE-1", "location": code, "kind": "receipt", "quantity": 10}
        _ok(post("stock-movements", {**body, "reference": "PO-1"}), 201)
    assert _ok(get("stock", sku="TEE-1", location="WH-1"))["results"][0]["on_hand"] == 10
    count = {"location": "WH-1", "counted_at": timezone.now().isoformat(), "lines": []}
    count["lines"] = [{"sku": "TEE-1", "quantity": 12}]
    _ok(post("stock-counts", count), 201)
    csv = SimpleUploadedFile("count.csv", b"sku,location,quantity\nTEE-1,ST-1,11\n")
    _ok(post("stock-counts", {"file": csv}, format="multipart"), 201)
    assert _ok(get("availability", sku="TEE-1"))["TEE-1"]["available"] == 23
    # delivery options and reservations
    quote = {"channel": "web", "lines": [{"sku": "TEE-1", "quantity": 1}]}
    destination = {"postcode": "75001", "country": "FR", "lat": 48.86, "lon": 2.34}
    # (no delivery prices set up here: the answer is a list, maybe empty)
    assert "options" in _ok(post("delivery-options", {**quote, "destination": destination}))
    held = _ok(post("reservations", quote), 201)
    _ok(get("reservation-detail", held["id"]))
    assert api.delete(reverse("reservation-detail", args=[held["id"]])).status_code == 204
    # orders
    shipped = _ok(post("orders", _order("W-1")), 201)
    assert _ok(get("orders", email="ada@example.com"))["count"] == 1
    _ok(get("order-detail", shipped["number"]))
    rejected = _ok(post("orders", _order("W-2")), 201)
    cancelled = _ok(post("orders", _order("W-3")), 201)
    _ok(post("order-cancel", {}, cancelled["number"]))
    collect = _order("W-4", delivery_method="click_and_collect", pickup_location="ST-1")
    collected = _ok(post("orders", collect), 201)
    # fulfilments
    assert _ok(get("fulfilments", status="requested"))["count"] >= 3
    first = shipped["fulfilments"][0]["id"]
    _ok(post("fulfilment-accept", {}, first))
    _ok(post("fulfilment-ship", {"carrier": "UPS", "tracking_number": "1Z"}, first))
    _ok(post("fulfilment-reject", {"reason": "damaged"}, rejected["fulfilments"][0]["id"]))
    pickup = collected["fulfilments"][0]["id"]
    _ok(post("fulfilment-ready", {}, pickup))
    _ok(post("fulfilment-collected", {}, pickup))
    # webhooks
    hook = {"url": "https://shop.example.com/hooks", "secret": "s" * 32, "location": None}
    created = _ok(post("webhooks", {**hook, "events": ["order.created"]}), 201)
    assert _ok(get("webhooks"))["count"] == 1
    assert api.delete(reverse("webhook-detail", args=[created["id"]])).status_code == 204
    # alerts
    _ok(post("alert-rules-low-stock", {"sku": "TEE-1", "location": None, "threshold": 5}), 201)
    alert = Alert.objects.create(
        kind=Alert.Kind.STOCK_DRIFT, subject="drift", opened_at=timezone.now()
    )
    assert _ok(get("alerts", status="open"))["count"] >= 1
    _ok(post("alert-acknowledge", {}, alert.pk))
    # then: the database followed
    assert Product.objects.filter(sku="TEE-1").exists()
    assert Location.objects.filter(code__in=["WH-1", "ST-1"]).count() == 2
    # 12 + 11 counted, one unit shipped and one collected
    assert sum(StockLevel.objects.values_list("on_hand", flat=True)) == 21
    assert Reservation.objects.get(public_id=held["id"]).status == "released"
    assert Order.objects.get(number=cancelled["number"]).status == "cancelled"
    assert Order.objects.get(number=collected["number"]).status == "collected"
    assert Fulfilment.objects.get(pk=first).status == "shipped"
    assert not WebhookSubscription.objects.exists()
    assert Alert.objects.get(pk=alert.pk).status == "acknowledged"


def test_a_key_of_a_user_tied_to_a_location_stays_at_that_location(db):
    # given: a 3PL's key, its user working for one of two warehouses
    head_office = _client_for("shop")
    for code in ("3PL-A", "3PL-B"):
        head_office.post(reverse("locations"), _location(code, "warehouse"), format="json")
    head_office.post(reverse("products"), {"sku": "TEE-1", "name": "Tee"}, format="json")
    three_pl = _client_for("carrier-a")
    Membership.objects.create(
        user=User.objects.get(username="carrier-a"), location=Location.objects.get(code="3PL-A")
    )
    # when
    own = three_pl.post(
        reverse("stock-movements"),
        {"sku": "TEE-1", "location": "3PL-A", "kind": "receipt", "quantity": 5, "reference": ""},
        format="json",
    )
    other = three_pl.post(
        reverse("stock-movements"),
        {"sku": "TEE-1", "location": "3PL-B", "kind": "receipt", "quantity": 5, "reference": ""},
        format="json",
    )
    hook = three_pl.post(
        reverse("webhooks"),
        {
            "url": "https://3pl.example.com/h",
            "secret": "s" * 32,
            "events": ["order.created"],
            "location": "3PL-B",
        },
        format="json",
    )
    rule = three_pl.post(
        reverse("alert-rules-low-stock"),
        {"sku": "TEE-1", "location": "3PL-B", "threshold": 5},
        format="json",
    )
    # then
    assert own.status_code == 201
    assert other.status_code in {400, 404}
    assert hook.status_code == 400 and "location" in hook.json()["errors"]
    assert rule.status_code == 400 and "location" in rule.json()["errors"]
    assert StockLevel.objects.get(location__code="3PL-A").on_hand == 5
    assert not StockLevel.objects.filter(location__code="3PL-B", on_hand__gt=0).exists()
    assert not WebhookSubscription.objects.exists()


def test_create_api_token_restores_a_deleted_integration_role(db):
    # given
    Group.objects.filter(name=INTEGRATION).delete()
    # when
    api = _client_for("shop")
    # then
    assert list(User.objects.get(username="shop").groups.values_list("name", flat=True)) == [
        INTEGRATION
    ]
    assert api.get(reverse("products")).status_code == 200
