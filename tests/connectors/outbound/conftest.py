"""The fake storefronts, running on localhost, which outbound calls may reach only when
allowed; the relay's producers started as a running relay has them."""

from __future__ import annotations

import pytest

from tests.connectors.fakes.shopify import FakeShopify
from tests.connectors.fakes.woocommerce import FakeWooCommerce
from tests.connectors.outbound.helpers import events_read
from tests.orders.helpers import product, stocked, warehouse


@pytest.fixture
def storefronts_allowed(settings, monkeypatch):
    settings.OMS_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("OMS_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")


@pytest.fixture
def shopify(storefronts_allowed):
    shop = FakeShopify().start()
    yield shop
    shop.stop()


@pytest.fixture
def woocommerce(storefronts_allowed):
    shop = FakeWooCommerce().start()
    yield shop
    shop.stop()


@pytest.fixture
def producers_started(db):
    """The ledger's producer starts at the end of the ledger: give it one line to start at
    (ids burnt by earlier tests' rollbacks would otherwise be a gap it waits at), as a
    running relay would have."""
    stocked(product("SEED-0"), warehouse("SEED-DC", lat=50.6, lon=3.06), 1)
    events_read()
