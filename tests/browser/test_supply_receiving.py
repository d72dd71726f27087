"""Receiving a transfer with a scanner in a real browser: each scan is the code and Enter,
which adds to the tally; Receive records it. The page is checked with axe-core."""

from __future__ import annotations

import pytest

from inventory.services import stock_receive
from supply.models import Transfer
from supply.services.transfers import TransferLineInput, transfer_create, transfer_ship
from tests.browser.test_console_flows import CHROMIUM, login, staff
from tests.browser.test_service_and_alerts import assert_accessible
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]


def test_a_clerk_receives_a_transfer_scan_by_scan(page, live_server):
    # given: 3 shirts shipped from DC-PARIS to the clerk's store
    dc, store = LocationFactory(code="DC-PARIS"), StoreFactory(code="ST-RIVOLI")
    shirt = ProductFactory(sku="SHIRT", name="Striped shirt", barcode="3700000000017")
    stock_receive(product=shirt, location=dc, quantity=3)
    transfer = transfer_create(
        source=dc, destination=store, lines=[TransferLineInput(product=shirt, quantity=3)]
    )
    transfer_ship(transfer_id=transfer.pk)
    staff("clerk", "store staff", store)
    login(page, live_server, "clerk")

    # when: the queue links the form; three scans of the barcode, each ending in Enter
    page.goto(f"{live_server.url}/console/supply/?tab=in-transit")
    assert_accessible(page)
    page.click(f"#transfer-{transfer.number} a")
    assert_accessible(page)
    for _ in range(3):
        page.fill("#r-code", "3700000000017")
        page.press("#r-code", "Enter")
        page.wait_for_load_state()
    # then: counted, nothing written yet
    assert page.inner_text("#line-SHIRT td:last-child") == "3"
    assert Transfer.objects.get().status == "shipped"

    # when
    page.click("button[value=receive]")
    page.wait_for_selector(f"text=Transfer {transfer.number} received: 3 units.")

    # then
    assert Transfer.objects.get().status == "received"
