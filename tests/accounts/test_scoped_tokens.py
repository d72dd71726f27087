"""Scoped tokens (docs/api.md "Scoped tokens"): what a 3PL's and a storefront's token may
do, the cases found when the API was tried as an attacker would, and `create_api_token`'s
scopes."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ChannelScope, Membership
from accounts.roles import INTEGRATION, WAREHOUSE_STAFF
from fulfilment.models import Fulfilment
from inventory.models import Location, Product
from orders.models import Channel, Order, Reservation
from orders.services.reservations import ReservedLine, reservation_create
from outbox.models import Delivery, OutboxEvent
from outbox.relay import events_fan_out
from outbox.services import subscription_create
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db

# A public address literal: a receiver no outbound check refuses, and no DNS to ask.
HOOK_URL = "https://93.184.216.34/hooks"
ORDER_EVENTS = ["order.created", "order.cancelled", "order.shipped"]
ALL_EVENTS = ORDER_EVENTS + ["fulfilment.requested", "fulfilment.cancelled", "stock.low"]


def _token(username: str, *options: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", username, *options, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def _client(username: str, *options: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token(username, *options)[0]}")
    return client


def _order_body(channel: str, external_id: str, sku: str) -> dict:
    return {
        "channel": channel,
        "external_id": external_id,
        "customer": {
            "email": "grace@example.com",
            "name": "Grace Hopper",
            "phone": "+33 1 23 45 67 89",
        },
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.86,
            "lon": 2.34,
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": 1, "unit_price": "10.00"}],
    }


@pytest.fixture
def network():
    """Two warehouses, each the only stock of one product; two storefront channels."""
    lyon, paris = warehouse("DC-LYON", lat=45.76, lon=4.84), warehouse("DC-PARIS")
    mug, tee = product("MUG-1"), product("TEE-1")
    stocked(mug, lyon, 5)
    stocked(tee, paris, 5)
    shop = Channel.objects.create(code="shop", name="Shop")
    market = Channel.objects.create(code="market", name="Market")
    return {"lyon": lyon, "paris": paris, "mug": mug, "tee": tee, "shop": shop, "market": market}


# create_api_token


def test_create_api_token_limits_the_token_to_the_locations_and_channels_named(network):
    # when
    key, said = _token("threepl", "--location", "DC-LYON", "--channel", "shop")
    # then
    user = User.objects.get(username="threepl")
    assert key
    assert set(Membership.objects.filter(user=user).values_list("location__code", flat=True)) == {
        "DC-LYON"
    }
    assert list(ChannelScope.objects.filter(user=user).values_list("channel__code", flat=True)) == [
        "shop"
    ]
    assert list(user.groups.values_list("name", flat=True)) == [INTEGRATION]
    assert "DC-LYON" in said and "shop" in said


def test_create_api_token_refuses_unknown_codes_naming_them(network):
    # when
    with pytest.raises(CommandError) as refused:
        _token("threepl", "--location", "DC-LYON", "--location", "NOWHERE", "--channel", "nope")
    # then: nothing made
    assert "NOWHERE" in str(refused.value)
    assert not User.objects.filter(username="threepl").exists()
    with pytest.raises(CommandError) as refused:
        _token("threepl", "--channel", "nope")
    assert "nope" in str(refused.value)


def test_create_api_token_again_with_other_scopes_replaces_them_and_keeps_the_token(network):
    # given
    first, _ = _token("partner", "--location", "DC-LYON", "--channel", "shop")
    # when
    second, _ = _token("partner", "--location", "DC-PARIS")
    unchanged, _ = _token("partner")
    # then
    user = User.objects.get(username="partner")
    assert first == second == unchanged
    assert list(Membership.objects.filter(user=user).values_list("location__code", flat=True)) == [
        "DC-PARIS"
    ]
    assert not ChannelScope.objects.filter(user=user).exists()


def test_create_api_token_gives_the_role_asked(network):
    # given
    _token("dock")
    # when
    _token("dock", "--role", WAREHOUSE_STAFF, "--location", "DC-LYON")
    # then
    user = User.objects.get(username="dock")
    assert list(user.groups.values_list("name", flat=True)) == [WAREHOUSE_STAFF]
    with pytest.raises(CommandError):
        _token("dock", "--role", "overlord")


# Case 1: a 3PL's subscription received order.created of an order another warehouse fulfils


def test_a_location_subscription_receives_nothing_about_orders_without_a_fulfilment_there(
    network,
):
    # given: the 3PL at Lyon subscribes to every event for its location through the API
    threepl = _client("threepl", "--location", "DC-LYON")
    subscribed = threepl.post(
        reverse("webhooks"),
        {"url": HOOK_URL, "secret": "s" * 32, "events": ALL_EVENTS, "location": "DC-LYON"},
        format="json",
    )
    assert subscribed.status_code == 201, subscribed.content
    head_office = subscription_create(url=HOOK_URL, secret="h" * 32, events=ALL_EVENTS)
    # when: an order that Paris fulfils, then one that Lyon fulfils
    elsewhere = place([(network["tee"], 1)], email="grace@example.com")
    here = place([(network["mug"], 1)], email="grace@example.com")
    events_fan_out()
    # then: the 3PL gets Lyon's fulfilment request only, with no customer e-mail in it
    received = Delivery.objects.filter(subscription_id=subscribed.json()["id"])
    events = list(OutboxEvent.objects.filter(deliveries__in=received))
    assert [e.event for e in events] == ["fulfilment.requested"]
    assert events[0].data["order"] == here.number
    assert "grace@example.com" not in json.dumps(events[0].data)
    assert events[0].data["customer"] == {"name": here.customer_name, "phone": here.customer_phone}
    assert elsewhere.number not in json.dumps([e.data for e in events])
    # and the network-wide subscription gets every order event
    to_head_office = OutboxEvent.objects.filter(deliveries__subscription=head_office)
    assert set(to_head_office.values_list("event", flat=True)) == {
        "order.created",
        "fulfilment.requested",
    }
    assert to_head_office.filter(event="order.created").count() == 2


def test_a_location_subscription_gets_no_order_event_even_for_its_own_fulfilments(network):
    # given
    subscription = subscription_create(
        url=HOOK_URL, secret="s" * 32, events=ALL_EVENTS, location=network["lyon"]
    )
    order = place([(network["mug"], 1)])
    # when: the order is cancelled (order.cancelled and fulfilment.cancelled)
    unscoped = _client("erp")
    assert unscoped.post(reverse("order-cancel", args=[order.number]), {}).status_code == 200
    events_fan_out()
    # then
    kinds = OutboxEvent.objects.filter(deliveries__subscription=subscription)
    assert sorted(kinds.values_list("event", flat=True)) == [
        "fulfilment.cancelled",
        "fulfilment.requested",
    ]


def test_a_location_token_subscribes_only_for_one_of_its_locations(network):
    # given
    threepl = _client("threepl", "--location", "DC-LYON")
    body = {"url": HOOK_URL, "secret": "s" * 32, "events": ["fulfilment.requested"]}
    # when
    network_wide = threepl.post(reverse("webhooks"), {**body, "location": None}, format="json")
    another = threepl.post(reverse("webhooks"), {**body, "location": "DC-PARIS"}, format="json")
    storefront = _client("shop", "--channel", "shop")
    from_shop = storefront.post(reverse("webhooks"), body, format="json")
    # then
    assert network_wide.status_code == 400
    assert "location" in network_wide.json()["errors"]
    assert another.status_code == 400
    assert "location" in another.json()["errors"]
    assert from_shop.status_code == 403
    assert not Delivery.objects.exists()
    assert not subscription_exists()


def subscription_exists() -> bool:
    from outbox.models import WebhookSubscription

    return WebhookSubscription.objects.exists()


# Case 2: a 3PL's token changed network-wide data


def test_a_scoped_token_cannot_change_network_wide_data(network):
    # given
    threepl = _client("threepl", "--location", "DC-LYON")
    storefront = _client("shop", "--channel", "shop")
    Product.objects.filter(sku="MUG-1").update(price="12.00")
    location_body = {
        "code": "DC-NEW",
        "name": "New",
        "kind": "warehouse",
        "lat": 48.0,
        "lon": 2.0,
    }
    answers = []
    for client in (threepl, storefront):
        # when
        answers += [
            client.patch(
                reverse("location-detail", args=["DC-LYON"]),
                {"active": False, "shipment_cost": "99999"},
                format="json",
            ),
            client.post(reverse("locations"), location_body, format="json"),
            client.patch(reverse("product-detail", args=["MUG-1"]), {"price": "0.01"}),
            client.post(reverse("products"), {"sku": "NEW-1", "name": "New"}, format="json"),
        ]
    # then
    assert [answer.status_code for answer in answers] == [403] * 8
    assert "without location or channel scope" in answers[0].json()["detail"]
    lyon = Location.objects.get(code="DC-LYON")
    assert lyon.active and lyon.shipment_cost != 99999
    assert not Location.objects.filter(code="DC-NEW").exists()
    assert str(Product.objects.get(sku="MUG-1").price) == "12.00"
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_an_unscoped_token_still_changes_network_wide_data(network):
    # given
    erp = _client("erp")
    # when
    answer = erp.patch(reverse("product-detail", args=["MUG-1"]), {"price": "9.90"})
    # then
    assert answer.status_code == 200
    assert str(Product.objects.get(sku="MUG-1").price) == "9.90"


# Case 3: another channel's external_id answered that channel's order


def test_another_channels_external_id_reveals_nothing_of_its_order(network):
    # given: the marketplace's order M-1
    theirs = _client("erp").post(
        reverse("orders"), _order_body("market", "M-1", "MUG-1"), format="json"
    )
    assert theirs.status_code == 201
    storefront = _client("shop", "--channel", "shop")
    # when: the storefront sends the same external_id for the marketplace
    probe = storefront.post(reverse("orders"), _order_body("market", "M-1", "TEE-1"), format="json")
    # then: refused on `channel`, nothing of the order in the answer, nothing written
    assert probe.status_code == 400
    assert list(probe.json()["errors"]) == ["channel"]
    body = probe.content.decode()
    assert theirs.json()["number"] not in body and "grace" not in body.lower()
    assert Order.objects.count() == 1
    # and GET of that order is a 404 for it, as before
    detail = storefront.get(reverse("order-detail", args=[theirs.json()["number"]]))
    assert detail.status_code == 404


def test_the_same_external_id_on_its_own_channel_is_its_own_order(network):
    # given
    theirs = _client("erp").post(
        reverse("orders"), _order_body("market", "X-1", "MUG-1"), format="json"
    )
    storefront = _client("shop", "--channel", "shop")
    # when
    mine = storefront.post(reverse("orders"), _order_body("shop", "X-1", "TEE-1"), format="json")
    again = storefront.post(reverse("orders"), _order_body("shop", "X-1", "TEE-1"), format="json")
    # then
    assert mine.status_code == 201 and again.status_code == 200
    assert mine.json()["number"] == again.json()["number"] != theirs.json()["number"]
    assert mine.json()["channel"] == "shop"
    assert Order.objects.count() == 2


def test_an_idempotency_key_replays_nothing_across_callers_or_scopes(network):
    # given: the ERP's order, sent with a key
    erp = _client("erp")
    body = _order_body("shop", "K-1", "MUG-1")
    first = erp.post(reverse("orders"), body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == 201
    # when: another caller sends the same key and body (a channel-scoped storefront)
    storefront = _client("shop", "--channel", "shop")
    other = storefront.post(reverse("orders"), body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    # then: its own request ran (the order exists on its channel: the same order, 200)
    assert other.status_code == 200
    assert other.get("Idempotent-Replayed") is None
    # when: the ERP's scope narrows to another channel, the same key is no replay
    _token("erp", "--channel", "market")
    narrowed = _client("erp").post(
        reverse("orders"), body, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    # then
    assert narrowed.status_code == 409
    assert first.json()["number"] not in narrowed.content.decode()


# Case 4: a 3PL's token cancelled another location's order and released a reservation


def test_a_location_token_cannot_cancel_orders(network):
    # given: one order Paris fulfils, one Lyon fulfils
    elsewhere = place([(network["tee"], 1)])
    here = place([(network["mug"], 1)])
    threepl = _client("threepl", "--location", "DC-LYON")
    # when
    answers = [
        threepl.post(reverse("order-cancel", args=[order.number]), {"reason": "x"})
        for order in (elsewhere, here)
    ]
    # then: neither order is there for it; nothing cancelled
    assert [a.status_code for a in answers] == [404, 404]
    assert not Order.objects.filter(status=Order.Status.CANCELLED).exists()
    assert not Fulfilment.objects.filter(status=Fulfilment.Status.CANCELLED).exists()
    # but its own fulfilment is there, with what shipping needs
    shown = threepl.get(reverse("fulfilments")).json()["results"]
    assert [(f["order"], f["location"]) for f in shown] == [(here.number, "DC-LYON")]
    assert set(shown[0]["customer"]) == {"name", "phone"}
    assert shown[0]["shipping_address"]["city"]


def test_a_channel_token_cancels_its_own_channels_orders_only(network):
    # given
    erp = _client("erp")
    market = erp.post(reverse("orders"), _order_body("market", "M-2", "MUG-1"), format="json")
    shop = erp.post(reverse("orders"), _order_body("shop", "S-2", "TEE-1"), format="json")
    storefront = _client("shop", "--channel", "shop")
    # when
    refused = storefront.post(reverse("order-cancel", args=[market.json()["number"]]), {})
    done = storefront.post(reverse("order-cancel", args=[shop.json()["number"]]), {})
    # then
    assert refused.status_code == 404
    assert done.status_code == 200
    statuses = dict(Order.objects.values_list("channel__code", "status"))
    assert statuses == {"market": "allocated", "shop": "cancelled"}


def test_a_scoped_token_cannot_release_another_callers_reservation(network):
    # given: a reservation made by someone else on the storefront's own channel
    someone = User.objects.create_user(username="someone", password=None)
    someone.groups.add(Group.objects.get(name=INTEGRATION))
    held = reservation_create(
        channel=network["shop"], lines=[ReservedLine(network["mug"], 1)], actor=someone
    )
    url = reverse("reservation-detail", args=[held.public_id])
    storefront = _client("shop", "--channel", "shop")
    threepl = _client("threepl", "--location", "DC-LYON")
    # when
    answers = [client.delete(url).status_code for client in (storefront, threepl)]
    answers += [client.get(url).status_code for client in (storefront, threepl)]
    # then
    assert answers == [404, 404, 404, 404]
    assert Reservation.objects.get(pk=held.pk).status == Reservation.Status.ACTIVE


def test_a_channel_token_releases_its_own_reservation(network):
    # given
    storefront = _client("shop", "--channel", "shop")
    made = storefront.post(
        reverse("reservations"),
        {"channel": "shop", "lines": [{"sku": "MUG-1", "quantity": 1}]},
        format="json",
    )
    assert made.status_code == 201, made.content
    # when
    released = storefront.delete(reverse("reservation-detail", args=[made.json()["id"]]))
    other_channel = storefront.post(
        reverse("reservations"),
        {"channel": "market", "lines": [{"sku": "MUG-1", "quantity": 1}]},
        format="json",
    )
    # then
    assert released.status_code == 204
    assert Reservation.objects.get().status == Reservation.Status.RELEASED
    assert other_channel.status_code == 400
    assert list(other_channel.json()["errors"]) == ["channel"]


# Reads narrowed to the scope


def test_availability_shows_a_location_token_its_own_figures_only(network):
    # given
    threepl = _client("threepl", "--location", "DC-LYON")
    # when
    answer = threepl.get(reverse("availability"), {"sku": ["MUG-1", "TEE-1"]})
    # then
    assert answer.status_code == 200
    assert answer.json() == {
        "MUG-1": {"available": 5, "locations": {"DC-LYON": 5}, "incoming": []},
        "TEE-1": {"available": 0, "locations": {}, "incoming": []},
    }


def test_availability_answers_a_channel_token_for_its_own_channel(network):
    # given: the shop is served by Paris only
    network["shop"].locations.set([network["paris"]])
    storefront = _client("shop", "--channel", "shop")
    # when
    own = storefront.get(reverse("availability"), {"sku": ["MUG-1", "TEE-1"]})
    other = storefront.get(reverse("availability"), {"sku": "MUG-1", "channel": "market"})
    # then
    assert own.status_code == 200
    assert own.json()["TEE-1"]["locations"] == {"DC-PARIS": 5}
    assert own.json()["MUG-1"]["available"] == 0
    assert other.status_code == 400
    assert list(other.json()["errors"]) == ["channel"]


def test_a_location_token_moves_stock_at_its_own_location_only(network):
    # given
    threepl = _client("threepl", "--location", "DC-LYON")
    storefront = _client("shop", "--channel", "shop")
    body = {"sku": "MUG-1", "kind": "receipt", "quantity": 2, "reference": "r"}
    # when
    own = threepl.post(reverse("stock-movements"), {**body, "location": "DC-LYON"}, format="json")
    other = threepl.post(
        reverse("stock-movements"), {**body, "location": "DC-PARIS"}, format="json"
    )
    shop = storefront.post(
        reverse("stock-movements"), {**body, "location": "DC-LYON"}, format="json"
    )
    # then
    assert (own.status_code, other.status_code, shop.status_code) == (201, 404, 403)
    assert own.json()["on_hand"] == 7
