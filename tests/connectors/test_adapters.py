"""The storefront adapters read the platforms' own sample payloads (no database)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectors.adapters import inbound_adapter
from connectors.adapters.base import PayloadRefused
from tests.connectors.helpers import fixture, shopify_order, signature, woocommerce_order

SECRET = "shpss_0123456789abcdef"


def test_it_accepts_a_body_signed_with_the_secret_and_refuses_any_other():
    # given
    shopify = inbound_adapter("shopify")
    body = json.dumps(shopify_order()).encode()
    good = signature(body, SECRET)
    # when / then
    assert shopify.webhook_verify(body=body, headers={"X-Shopify-Hmac-Sha256": good}, secret=SECRET)
    # header names arrive in any case
    assert shopify.webhook_verify(body=body, headers={"x-shopify-hmac-sha256": good}, secret=SECRET)
    assert not shopify.webhook_verify(
        body=body + b" ", headers={"X-Shopify-Hmac-Sha256": good}, secret=SECRET
    )
    assert not shopify.webhook_verify(
        body=body, headers={"X-Shopify-Hmac-Sha256": good}, secret=SECRET + "x"
    )
    assert not shopify.webhook_verify(body=body, headers={}, secret=SECRET)
    assert not shopify.webhook_verify(
        body=body, headers={"X-Shopify-Hmac-Sha256": "not base64 ü"}, secret=SECRET
    )


def test_woocommerce_signs_with_its_own_header():
    woo = inbound_adapter("woocommerce")
    body = json.dumps(woocommerce_order()).encode()
    good = signature(body, SECRET)
    assert woo.webhook_verify(body=body, headers={"X-WC-Webhook-Signature": good}, secret=SECRET)
    assert not woo.webhook_verify(body=body, headers={"X-Shopify-Hmac-Sha256": good}, secret=SECRET)


def test_shopify_sample_order_reads_as_the_order_input():
    # given
    payload = shopify_order()
    # when
    remote = inbound_adapter("shopify").order_read(payload=payload, channel_code="shop")
    # then
    body = remote.body
    assert remote.remote_id == "820982911946154508"
    assert not remote.cancelled
    assert body.channel == "shop"
    assert body.external_id == "820982911946154508"
    assert body.customer.email == "jon@example.com"
    assert body.customer.name == "Steve Shipper"
    # "555-555-SHIP" is not a phone number the order takes: left out, not a refusal.
    assert body.customer.phone == ""
    assert body.currency == "USD"
    assert body.shipping_address is not None
    assert body.shipping_address.line1 == "123 Shipping Street"
    assert body.shipping_address.postcode == "40003"
    assert body.shipping_address.country == "US"
    assert body.shipping_address.lat is None
    assert [(line.sku, line.quantity, line.unit_price) for line in body.lines] == [
        ("IPOD2008PINK", 1, Decimal("199.00")),
        ("IPOD2008PINK", 1, Decimal("199.00")),
    ]
    assert body.delivery_method == "standard"


def test_shopify_cancelled_sample_is_a_cancellation_whatever_the_topic():
    shopify = inbound_adapter("shopify")
    cancelled = fixture("shopify_orders_cancelled.json")
    assert shopify.is_cancellation(topic="orders/cancelled", payload=cancelled)
    assert shopify.is_cancellation(topic="orders/updated", payload=cancelled)
    assert not shopify.is_cancellation(topic="orders/updated", payload=shopify_order())


def test_shopify_lines_with_nothing_to_ship_are_left_out():
    # given: a tip (no SKU, nothing to ship) and a line removed by an order edit
    payload = shopify_order()
    payload["line_items"][0]["current_quantity"] = 0
    payload["line_items"].append(
        {"sku": "", "quantity": 1, "price": "2.00", "requires_shipping": False, "title": "Tip"}
    )
    # when
    body = inbound_adapter("shopify").order_read(payload=payload, channel_code="shop").body
    # then
    assert [(line.sku, line.quantity) for line in body.lines] == [("IPOD2008PINK", 1)]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"shipping_address": None}, "no_address"),
        ({"email": None, "contact_email": None, "customer": {}}, "no_email"),
        ({"line_items": []}, "no_lines"),
        ({"id": None}, "invalid"),
        ({"currency": "XXX"}, "invalid"),
    ],
)
def test_shopify_payloads_that_cannot_be_orders_say_why(change, code):
    with pytest.raises(PayloadRefused) as refused:
        inbound_adapter("shopify").order_read(payload=shopify_order(**change), channel_code="s")
    assert refused.value.code == code
    assert refused.value.reason


def test_woocommerce_reference_order_refuses_its_line_without_sku():
    # The reference's first line has an empty SKU: nothing the OMS could allocate.
    with pytest.raises(PayloadRefused) as refused:
        inbound_adapter("woocommerce").order_read(payload=woocommerce_order(), channel_code="woo")
    assert refused.value.code == "no_sku"
    assert "Woo Single #1" in refused.value.reason


def test_a_woocommerce_variation_line_is_the_variation_s_sku():
    # given: the reference's second line is variation 23 ("Color: Black, Size: M Test") of
    # the variable product 22, and carries the variation's own SKU
    payload = woocommerce_order()
    payload["line_items"][0]["sku"] = "woo-single-1"
    line = payload["line_items"][1]
    assert (line["product_id"], line["variation_id"], line["sku"]) == (22, 23, "Bar3")
    # when
    body = inbound_adapter("woocommerce").order_read(payload=payload, channel_code="woo").body
    # then: the order line is the variation, by its SKU
    assert body.lines[1].sku == "Bar3"


def test_a_woocommerce_variation_without_a_sku_is_refused_naming_it():
    payload = woocommerce_order()
    payload["line_items"][0]["sku"] = "woo-single-1"
    payload["line_items"][1]["sku"] = ""
    with pytest.raises(PayloadRefused) as refused:
        inbound_adapter("woocommerce").order_read(payload=payload, channel_code="woo")
    assert refused.value.code == "no_sku"
    assert "variation 23 of product 22" in refused.value.reason


def test_woocommerce_reference_order_reads_once_its_skus_are_set():
    # given
    payload = woocommerce_order()
    payload["line_items"][0]["sku"] = "woo-single-1"
    # when
    remote = inbound_adapter("woocommerce").order_read(payload=payload, channel_code="woo")
    # then
    body = remote.body
    assert remote.remote_id == "727"
    assert body.customer.email == "john.doe@example.com"
    assert body.customer.name == "John Doe"
    assert body.customer.phone == "(555) 555-5555"
    assert body.shipping_address is not None
    assert (body.shipping_address.city, body.shipping_address.postcode) == (
        "San Francisco",
        "94103",
    )
    assert body.shipping_address.lat is None  # WooCommerce never sends coordinates
    assert [(line.sku, line.quantity, line.unit_price) for line in body.lines] == [
        ("woo-single-1", 2, Decimal("3.00")),
        ("Bar3", 1, Decimal("12.00")),
    ]


@pytest.mark.parametrize("status", ["cancelled", "refunded", "trash"])
def test_woocommerce_cancellation_is_a_status(status):
    woo = inbound_adapter("woocommerce")
    assert woo.is_cancellation(topic="order.updated", payload=woocommerce_order(status=status))
    assert not woo.is_cancellation(topic="order.updated", payload=woocommerce_order())


def test_woocommerce_order_not_paid_yet_is_not_an_order_yet():
    with pytest.raises(PayloadRefused) as refused:
        inbound_adapter("woocommerce").order_read(
            payload=woocommerce_order(status="pending"), channel_code="woo"
        )
    assert refused.value.code == "not_yet"


def test_each_storefront_says_when_the_order_last_changed():
    from datetime import UTC, datetime

    shopify = inbound_adapter("shopify").remote_updated_at(shopify_order())
    woo = inbound_adapter("woocommerce").remote_updated_at(woocommerce_order())
    assert shopify == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    # the reference's date_modified_gmt has no offset: GMT, as its name says
    assert woo == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert inbound_adapter("woocommerce").remote_updated_at({"date_modified_gmt": "x"}) is None
