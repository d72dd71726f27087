"""POST /connectors/{channel}/webhook/: signed storefront orders become orders."""

from __future__ import annotations

import pytest

from connectors.models import StorefrontOrder
from orders.models import DeliveryPrice, Order
from tests.connectors.helpers import (
    connect,
    fixture,
    outcome,
    post,
    send,
    shopify_order,
    store_only,
    woocommerce_order,
)
from tests.orders.helpers import product, stocked, warehouse

pytestmark = pytest.mark.django_db
ST = StorefrontOrder.Status


@pytest.fixture
def network():
    wh = warehouse("WH")
    stocked(product("IPOD2008PINK"), wh, 10)
    stocked(product("Bar3"), wh, 10)
    stocked(product("woo-single-1"), wh, 10)
    return wh


def test_it_places_the_shopify_sample_order(client, network):
    # given
    connect("shop")
    # when
    response = send(client, shopify_order(), webhook_id="wh-1")
    # then
    assert response.status_code == 200
    order = Order.objects.get(channel__code="shop", external_id="820982911946154508")
    assert outcome() == {
        "status": "applied",
        "reason": f"Order {order.number} placed.",
        "order": order.number,
    }
    assert order.status == Order.Status.ALLOCATED
    assert order.customer_email == "jon@example.com"
    assert order.ship_placed_by == "postcode"  # the sample's latitude is null
    assert order.currency == "USD"
    assert sorted(order.lines.values_list("product__sku", "quantity")) == [
        ("IPOD2008PINK", 1),
        ("IPOD2008PINK", 1),
    ]
    row = StorefrontOrder.objects.get()
    assert (row.topic, row.webhook_id, row.remote_order_id) == (
        "orders/create",
        "wh-1",
        "820982911946154508",
    )
    assert row.order == order


def test_the_raw_body_is_kept_byte_for_byte(client, network):
    # given: a body with odd spacing, as a storefront may serialise it
    connect("shop")
    raw = b'{"id": 1,   "email": "a@example.com"}'
    # when
    send(client, None, raw=raw)
    # then
    assert bytes(StorefrontOrder.objects.get().body) == raw


@pytest.mark.parametrize("secret", ["wrong-secret-123", ""])
def test_a_bad_or_missing_signature_is_401_and_nothing_is_stored(client, network, secret):
    connect("shop")
    response = send(client, shopify_order(), secret=secret)
    assert response.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in response.json()["detail"]
    assert not StorefrontOrder.objects.exists()
    assert not Order.objects.filter(channel__code="shop").exists()


def test_a_signature_for_another_body_is_401(client, network):
    connect("shop")
    body = b'{"id": 2}'
    from tests.connectors.helpers import SHOPIFY_SECRET, signature

    response = client.post(
        "/connectors/shop/webhook/",
        data=b'{"id": 3}',
        content_type="application/json",
        headers={"X-Shopify-Hmac-Sha256": signature(body, SHOPIFY_SECRET)},
    )
    assert response.status_code == 401
    assert not StorefrontOrder.objects.exists()


def test_a_channel_with_no_storefront_is_404(client, network):
    response = send(client, shopify_order(), channel="web")
    assert response.status_code == 404
    assert not StorefrontOrder.objects.exists()


def test_a_body_over_the_limit_is_413_before_it_is_read(client, network, settings):
    connect("shop")
    settings.OMS_API_MAX_BODY_BYTES = 1000
    response = send(client, None, raw=b"{" + b" " * 2000 + b"}")
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]
    assert not StorefrontOrder.objects.exists()


def test_the_same_order_by_any_topic_makes_one_order(client, network):
    # given
    connect("shop")
    payload = shopify_order()
    # when: created, updated, and created again (a storefront's retry with a new id)
    answers = [
        send(client, payload, topic="orders/create", webhook_id="a"),
        send(client, payload, topic="orders/updated", webhook_id="b"),
        send(client, payload, topic="orders/create", webhook_id="c"),
    ]
    # then
    assert [a.status_code for a in answers] == [200, 200, 200]
    order = Order.objects.get(channel__code="shop")
    assert {outcome(w)["order"] for w in "abc"} == {order.number}
    assert outcome("b")["reason"] == f"Order {order.number} already says this."
    assert StorefrontOrder.objects.filter(order=order, status=ST.APPLIED).count() == 3


def test_the_answer_comes_with_the_order_placed(client, network):
    from connectors.services.inbound import storefront_orders_apply_due

    # given
    connect("shop")
    # when
    response = post(client, shopify_order(), webhook_id="first")
    # then: the body is stored and applied before the answer
    assert response.status_code == 200
    order = Order.objects.get(channel__code="shop")
    assert response.json() == {
        "status": "applied",
        "reason": f"Order {order.number} placed.",
        "order": order.number,
        "duplicate": False,
    }
    row = StorefrontOrder.objects.get()
    assert (row.status, row.claimed_until, row.attempts) == (ST.APPLIED, None, 1)
    # and the worker finds nothing left to do
    assert storefront_orders_apply_due().applied == 0


def test_a_body_the_request_fails_to_apply_is_kept_and_applied_by_the_worker(
    client, network, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    import connectors.views
    from connectors.services.inbound import storefront_orders_apply_due

    def broken(**kwargs):
        raise RuntimeError("the request's process fails after storing the body")

    # given: applying fails in the request, after the body was stored
    connect("shop")
    monkeypatch.setattr(connectors.views, "storefront_order_apply", broken)
    # when
    response = post(client, shopify_order(), webhook_id="first")
    # then: acknowledged, stored, claimed by the request, no order
    assert response.status_code == 200
    assert response.json() == {
        "status": "received",
        "reason": "",
        "order": None,
        "duplicate": False,
    }
    row = StorefrontOrder.objects.get()
    assert row.status == ST.RECEIVED and row.claimed_until is not None
    assert not Order.objects.filter(channel__code="shop").exists()
    # when: the storefront resends it: answered as the first copy, not applied twice
    again = post(client, shopify_order(), webhook_id="first")
    assert again.json() == {"status": "received", "reason": "", "order": None, "duplicate": True}
    # the worker leaves it while the request's claim holds
    assert storefront_orders_apply_due().applied == 0
    # when: the claim lapsed
    StorefrontOrder.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    # then: the worker applies it, once
    assert storefront_orders_apply_due().applied == 1
    order = Order.objects.get(channel__code="shop")
    assert outcome("first") == {
        "status": "applied",
        "reason": f"Order {order.number} placed.",
        "order": order.number,
    }
    assert storefront_orders_apply_due().applied == 0
    assert StorefrontOrder.objects.get().attempts == 1


def test_the_same_delivery_twice_is_stored_once(client, network):
    connect("shop")
    send(client, shopify_order(), webhook_id="same")
    again = send(client, shopify_order(), webhook_id="same")
    assert again.status_code == 200
    # the second answer says what became of the first copy
    assert again.json() == {**outcome("same"), "duplicate": True}
    assert again.json()["status"] == "applied"
    assert StorefrontOrder.objects.count() == 1
    assert Order.objects.filter(channel__code="shop").count() == 1


def test_a_body_the_code_fails_on_does_not_hold_up_those_behind_it(client, network):
    from connectors.models import Connector
    from connectors.services.inbound import storefront_orders_apply_due

    # given: a body left to the worker for a connector whose kind this code has no adapter
    # for, and a good one after it
    connect("shop")
    broken = connect("other")
    store_only({"id": 1}, channel="other", webhook_id="broken")
    Connector.objects.filter(pk=broken.pk).update(kind="prestashop")
    store_only(shopify_order(), webhook_id="good")
    # when
    done = storefront_orders_apply_due()
    # then: the good one is placed; the other waits, claimed, for its claim to lapse
    assert (done.applied, done.failed) == (1, 1)
    assert outcome("good")["status"] == "applied"
    row = StorefrontOrder.objects.get(webhook_id="broken")
    assert row.status == ST.RECEIVED
    assert row.claimed_until is not None
    assert storefront_orders_apply_due().failed == 0


def test_a_body_claimed_by_a_live_run_is_left_to_it_and_taken_over_when_its_claim_lapses(
    client, network
):
    from datetime import timedelta

    from django.utils import timezone

    from connectors.services.inbound import storefront_orders_apply_due

    # given: a body another run claimed a moment ago
    connect("shop")
    store_only(shopify_order(), webhook_id="claimed")
    StorefrontOrder.objects.update(claimed_until=timezone.now() + timedelta(minutes=1))
    # when / then: left to it
    assert storefront_orders_apply_due().applied == 0
    # when: that run died, its claim lapsed
    StorefrontOrder.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    # then
    assert storefront_orders_apply_due().applied == 1
    row = StorefrontOrder.objects.get()
    assert (row.status, row.claimed_until) == (ST.APPLIED, None)


def test_a_cancellation_cancels_the_order(client, network):
    # given
    connect("shop")
    send(client, shopify_order())
    order = Order.objects.get(channel__code="shop")
    # when
    send(client, fixture("shopify_orders_cancelled.json"), topic="orders/cancelled")
    # then
    assert outcome()["reason"] == f"Order {order.number} cancelled."
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert not order.lines.filter(allocations__status="open").exists()


def test_a_cancellation_of_an_order_never_seen_is_kept_and_ignored(client, network):
    connect("shop")
    send(client, fixture("shopify_orders_cancelled.json"), topic="orders/cancelled")
    assert outcome()["status"] == "ignored"
    assert not Order.objects.filter(channel__code="shop").exists()


def test_an_update_taking_units_off_before_fulfilment_is_applied(client, network):
    # given
    connect("shop")
    send(client, shopify_order())
    order = Order.objects.get(channel__code="shop")
    # when: the customer's order is edited down to one unit, and a new street
    edited = shopify_order()
    edited["line_items"][1]["current_quantity"] = 0
    edited["shipping_address"]["address1"] = "125 Shipping Street"
    send(client, edited, topic="orders/updated")
    # then
    assert outcome()["reason"].startswith(f"Order {order.number} changed:")
    order.refresh_from_db()
    assert order.ship_line1 == "125 Shipping Street"
    assert sum(line.quantity_open for line in order.lines.all()) == 1
    assert order.status == Order.Status.ALLOCATED
    assert not order.needs_attention


def test_an_update_adding_units_goes_to_customer_service_unapplied(client, network):
    connect("shop")
    send(client, shopify_order())
    order = Order.objects.get(channel__code="shop")
    more = shopify_order()
    more["line_items"][0]["current_quantity"] = 3
    more["shipping_address"]["address1"] = "9 Elsewhere Road"
    send(client, more, topic="orders/updated")
    assert outcome()["reason"].startswith("Sent to customer service:")
    order.refresh_from_db()
    assert order.needs_attention
    assert "2 × IPOD2008PINK more" in order.attention_reason
    # nothing half-applied: the address stays
    assert order.ship_line1 == "123 Shipping Street"
    assert sum(line.quantity_open for line in order.lines.all()) == 2


def test_an_update_once_a_location_took_the_order_on_is_flagged(client, network):
    from orders.services.fulfilments import fulfilment_accept

    connect("shop")
    send(client, shopify_order())
    order = Order.objects.get(channel__code="shop")
    fulfilment_accept(fulfilment_id=order.fulfilments.get().pk)
    edited = shopify_order()
    edited["line_items"][1]["current_quantity"] = 0
    send(client, edited, topic="orders/updated")
    order.refresh_from_db()
    assert order.needs_attention
    assert "already taken the order on" in order.attention_reason
    assert sum(line.quantity_open for line in order.lines.all()) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"shipping_address": None}, "no shipping address"),
        ({"line_items": [{"sku": "NOPE-1", "quantity": 1, "price": "1.00"}]}, "NOPE-1"),
        ({"line_items": [{"sku": "", "quantity": 1, "price": "1.00", "title": "Mug"}]}, "SKU"),
        ({"email": None, "contact_email": None, "customer": None}, "e-mail"),
        ({"currency": "GBP"}, "takes USD"),
    ],
)
def test_what_cannot_become_an_order_answers_200_and_waits_to_be_fixed(
    client, network, change, reason
):
    # given: the channel takes USD
    connector = connect("shop")
    DeliveryPrice.objects.create(
        channel=connector.channel, method="standard", price="5.00", currency="USD"
    )
    # when
    response = send(client, shopify_order(**change))
    # then
    assert response.status_code == 200
    assert outcome()["status"] == "to_fix"
    row = StorefrontOrder.objects.get()
    assert row.status == ST.TO_FIX
    assert reason in row.reason
    assert not Order.objects.filter(channel__code="shop").exists()


def test_a_body_that_is_not_json_is_kept_to_fix(client, network):
    connect("shop")
    send(client, None, raw=b"not json at all")
    assert outcome()["status"] == "to_fix"
    assert StorefrontOrder.objects.get().reason == "The body is not a JSON object."


def test_a_topic_not_about_orders_is_kept_and_ignored(client, network):
    connect("shop")
    send(client, {"id": 5}, topic="products/update")
    assert outcome()["status"] == "ignored"


def test_woocommerce_reference_order_waits_for_its_sku_and_is_replayed(client, network):
    from connectors.services.inbound import storefront_order_replay

    # given: the reference order's first line has no SKU
    connect("woo", kind="woocommerce")
    send(
        client,
        woocommerce_order(),
        channel="woo",
        kind="woocommerce",
        topic="order.created",
        webhook_id="101",
    )
    row = StorefrontOrder.objects.get()
    assert outcome("101")["status"] == "to_fix"
    assert "Woo Single #1" in row.reason
    # when: the shop fixes its product, the same payload is replayed from the queue...
    # (a replay reads the stored body: here the SKU is the one fixed in the OMS's catalogue)
    payload = woocommerce_order()
    payload["line_items"][0]["sku"] = "woo-single-1"
    send(
        client, payload, channel="woo", kind="woocommerce", topic="order.updated", webhook_id="102"
    )
    # then: the later delivery made the order, and the one to fix is moot
    order = Order.objects.get(channel__code="woo", external_id="727")
    row.refresh_from_db()
    assert row.status == ST.IGNORED
    assert row.order == order
    assert order.ship_city == "San Francisco"
    # WooCommerce sends no coordinates: the address was placed from its postcode
    assert order.ship_placed_by == "postcode"
    assert (round(order.ship_lat), round(order.ship_lon)) == (38, -122)
    with pytest.raises(Exception, match="only one to fix"):
        storefront_order_replay(storefront_order=row)


def test_woocommerce_cancelled_status_cancels(client, network):
    connect("woo", kind="woocommerce")
    payload = woocommerce_order()
    payload["line_items"][0]["sku"] = "woo-single-1"
    send(client, payload, channel="woo", kind="woocommerce", topic="order.created")
    payload["status"] = "cancelled"
    send(client, payload, channel="woo", kind="woocommerce", topic="order.updated")
    assert Order.objects.get(channel__code="woo").status == Order.Status.CANCELLED


def test_a_replay_after_the_sku_was_created_places_the_order(client, network):
    from connectors.services.inbound import storefront_order_replay

    # given: an order for a SKU the OMS does not have yet
    connect("shop")
    payload = shopify_order()
    payload["line_items"][1]["sku"] = "NEW-SKU"
    send(client, payload)
    row = StorefrontOrder.objects.get()
    assert "NEW-SKU" in row.reason
    # when: the product is created and stocked, and the storefront order replayed
    stocked(product("NEW-SKU"), network, 3)
    storefront_order_replay(storefront_order=row)
    # then
    row.refresh_from_db()
    assert row.status == ST.APPLIED
    assert row.attempts == 2
    assert row.order.lines.filter(product__sku="NEW-SKU").exists()


def test_a_webhook_whose_run_was_cut_off_is_finished_by_the_sweep(network):
    from datetime import timedelta

    from django.utils import timezone

    from connectors.services.inbound import storefront_orders_resume
    from tests.connectors.helpers import json_body

    # given: a body stored, its run never done (the process died), three minutes ago
    connector = connect("shop")
    row = StorefrontOrder.objects.create(
        connector=connector,
        topic="orders/create",
        remote_order_id="820982911946154508",
        body=json_body(shopify_order()),
        received_at=timezone.now() - timedelta(minutes=3),
    )
    fresh = StorefrontOrder.objects.create(
        connector=connector, topic="orders/create", body=b"{}", remote_order_id="9"
    )
    # when
    resumed = storefront_orders_resume()
    # then: the old one became its order; one just received is left to the run its
    # commit woke
    assert resumed == 1
    row.refresh_from_db()
    assert row.status == ST.APPLIED
    assert row.order == Order.objects.get(channel__code="shop")
    fresh.refresh_from_db()
    assert fresh.status == ST.RECEIVED


def test_an_older_version_arriving_after_a_newer_one_is_not_applied(client, network):
    # given: the order, then its newer version (a new street) applied
    connect("shop")
    send(client, shopify_order(updated_at="2022-01-01T10:00:00-05:00"))
    newer = shopify_order(updated_at="2022-01-01T12:00:00-05:00")
    newer["shipping_address"]["address1"] = "200 Newer Street"
    send(client, newer, topic="orders/updated")
    # when: an older version (another street) arrives late, as webhooks may
    older = shopify_order(updated_at="2022-01-01T11:00:00-05:00")
    older["shipping_address"]["address1"] = "100 Older Street"
    send(client, older, topic="orders/updated")
    # then
    assert outcome()["status"] == "ignored"
    assert "older version" in outcome()["reason"]
    assert Order.objects.get(channel__code="shop").ship_line1 == "200 Newer Street"


def test_a_secret_the_keys_no_longer_open_is_503_and_the_storefront_retries(
    client, network, settings
):
    from cryptography.fernet import Fernet

    connect("shop")
    settings.OMS_SECRET_KEY_CONNECTORS = [Fernet.generate_key().decode()]
    response = send(client, shopify_order())
    assert response.status_code == 503
    assert not StorefrontOrder.objects.exists()
