"""The customer's return on /track/ in a real browser at phone size: from the order page to
the printable slip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orders.tracking.links import tracking_token
from returns.models import Return
from tests.factories import StoreFactory
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]


@pytest.fixture
def phone():
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        context.set_default_timeout(10_000)
        yield context.new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_a_customer_returns_an_item_in_store_from_the_tracking_page(phone, live_server):
    # given: an order shipped to Paris, and two stores
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS", lat=48.86, lon=2.34), 5)
    order = order_shipped([(tee, 2, "19.90")])
    StoreFactory(code="ST-RIVOLI", name="Paris Rivoli", lat=48.86, lon=2.34)
    StoreFactory(code="ST-LYON", name="Lyon Bellecour", lat=45.76, lon=4.84)
    # when: the customer follows the tracking link and returns one shirt in store
    phone.goto(f"{live_server.url}/track/{tracking_token(order.number)}/")
    phone.get_by_role("link", name="Return items").click()
    phone.get_by_label("How many (up to 2)").fill("1")
    phone.get_by_label("Why").select_option("too_small")
    phone.get_by_label("In a store").check()
    assert phone.locator("#store option").first.inner_text().startswith("Paris Rivoli")
    phone.get_by_role("button", name="Get my return slip").click()
    # then: the slip shows the return number, where to bring it, and the status
    ret = Return.objects.get()
    phone.wait_for_url(f"**/returns/{ret.number}/")
    slip = phone.locator("#return-slip")
    assert ret.number in slip.inner_text()
    assert "Paris Rivoli" in slip.inner_text()
    assert "We are waiting for your items." in phone.content()
    # nothing overflows the phone's width
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
