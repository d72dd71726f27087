"""The console in a real browser: Playwright driving Debian's Chromium against a live server.

Each role logs in through the admin's login form; store staff accept, ship, prepare and
hand over parcels from the work queues; customer service finds an order by e-mail and
cancels it; the customer follows it on /track/. Screenshots of the dashboard and the order
page are taken on every run; with OMS_SCREENSHOTS=1 they replace docs/screenshots/ for the
README (a plain test run leaves the checkout as it was).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fulfilment.models import Fulfilment
from orders.models import Order
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-pass-123"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls are plain synchronous ones between its steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/console/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/")


def staff(username: str, role: str, *locations):
    user = person(username, role, *locations)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where the README's screenshots go: docs/ when asked for, else the test's own folder."""
    return DOCS_SCREENSHOTS if os.environ.get("OMS_SCREENSHOTS") == "1" else tmp_path


@pytest.fixture
def shop():
    tee = product("TEE-1")
    dc = warehouse("DC-PARIS")
    stocked(tee, dc, 50)
    store = StoreFactory(code="ST-OPERA", name="Opéra", click_and_collect=True, ships=False)
    stocked(tee, store, 5)
    return {"tee": tee, "dc": dc, "store": store}


def test_each_role_logs_in_to_its_dashboard(page, live_server, shop, screenshots):
    # given
    roles = {
        "store": ("store staff", [shop["store"]], "#console-low-stock"),
        "warehouse": ("warehouse staff", [shop["dc"]], "#console-to-accept"),
        "agent": ("customer service", [], "#console-orders-today"),
        "buyer": ("inventory manager", [], "#console-stock"),
        "boss": ("administrator", [], "#console-costs"),
    }
    place([(shop["tee"], 1)])
    for username, (role, places, _) in roles.items():
        staff(username, role, *places)
    for username, (_, _, section) in roles.items():
        # when
        login(page, live_server, username)
        # then
        assert page.locator(section).is_visible()
        if username == "boss":
            page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
        page.context.clear_cookies()


def test_the_warehouse_accepts_then_ships_and_the_store_hands_over_a_pickup(
    page, live_server, shop
):
    # given
    parcel = place([(shop["tee"], 1)], email="parcel@example.com")
    pickup = place(
        [(shop["tee"], 1)],
        email="pickup@example.com",
        delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
        pickup_location=shop["store"],
    )
    staff("picker", "warehouse staff", shop["dc"])
    staff("clerk", "store staff", shop["store"])
    # when: the warehouse accepts and ships its request
    login(page, live_server, "picker")
    page.click("#console-queue-counts a[data-queue='to-accept']")
    page.check(f"tr[data-order='{parcel.number}'] input[name=ids]")
    page.select_option("#queue-action", "accept")
    page.click("button[value=selected]")
    page.wait_for_selector("text=Accept: done for 1 row(s).")
    page.goto(f"{live_server.url}/console/queues/to-ship/")
    row = page.locator(f"tr[data-order='{parcel.number}']")
    row.locator("input[name^=carrier]").fill("UPS")
    row.locator("input[name^=tracking]").fill("1Z999")
    page.select_option("#queue-action", "ship")
    page.click("button[value=selected]")
    page.wait_for_selector("text=Ship: done for 1 row(s).")
    page.context.clear_cookies()
    # and: the store accepts, prepares and hands over its pickup
    login(page, live_server, "clerk")
    for queue, action, said in (
        ("to-accept", "accept", "Accept"),
        ("to-ship", "ready", "Mark ready for pickup"),
        ("ready-for-pickup", "collect", "Mark collected"),
    ):
        page.goto(f"{live_server.url}/console/queues/{queue}/")
        page.check(f"tr[data-order='{pickup.number}'] input[name=ids]")
        if action == "collect":
            pickup.refresh_from_db()
            page.fill(f"tr[data-order='{pickup.number}'] input[name^=code]", pickup.pickup_code)
        page.select_option("#queue-action", action)
        page.click("button[value=selected]")
        page.wait_for_selector(f"text={said}: done for 1 row(s).")
    # then
    assert Fulfilment.objects.get(order=parcel).tracking_number == "1Z999"
    parcel.refresh_from_db()
    pickup.refresh_from_db()
    assert (parcel.status, pickup.status) == (Order.Status.SHIPPED, Order.Status.COLLECTED)


def test_customer_service_finds_an_order_by_email_and_cancels_it_and_the_customer_sees_it(
    page, live_server, shop, screenshots
):
    # given
    order = place([(shop["tee"], 2)], email="grace@example.com")
    staff("agent", "customer service")
    login(page, live_server, "agent")
    # when: found from the console's search box, opened, cancelled
    page.fill(".console-nav input[name=q]", "grace@example.com")
    page.click(".console-nav input[type=submit]")
    page.click(f"#find-results a:text('{order.number}')")
    page.wait_for_url(f"**/console/orders/{order.number}/")
    page.screenshot(path=str(screenshots / "order.png"), full_page=True)
    page.fill("#id_cancel_reason", "Asked by phone")
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel the whole order …?"
    page.click("input[value='Cancel order']")
    page.wait_for_selector(f"text=Order {order.number} cancelled.")
    page.context.clear_cookies()
    # and: the customer looks it up
    page.goto(f"{live_server.url}/track/")
    page.fill("#number", order.number)
    page.fill("#email", "grace@example.com")
    page.click("button[type=submit]")
    # then
    page.wait_for_selector("p.status")
    assert "cancel" in page.inner_text("p.status").lower()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_a_store_uploads_a_count_file_confirms_it_and_acknowledges_an_alert(
    page, live_server, shop, tmp_path
):
    # given
    from django.utils import timezone

    from alerts.models import Alert
    from inventory.models import StockLevel

    staff("clerk", "store staff", shop["store"])
    alert = Alert.objects.create(
        kind=Alert.Kind.LOW_STOCK,
        subject=f"{shop['tee'].pk}@{shop['store'].pk}",
        product=shop["tee"],
        location=shop["store"],
        opened_at=timezone.now(),
    )
    counts = tmp_path / "opera.csv"
    counts.write_text("sku,location,quantity\nTEE-1,ST-OPERA,3\n")
    login(page, live_server, "clerk")
    # when: the count file is uploaded, previewed and confirmed
    page.goto(f"{live_server.url}/admin/inventory/stocklevel/import/")
    page.set_input_files("#id_import_file", str(counts))
    page.click("input[type=submit][value=Submit]")
    page.click("input[name=confirm], input[value='Confirm import']")
    page.wait_for_selector("text=Applied 1 count(s)")
    # and: the low-stock alert is acknowledged from the dashboard's alerts link
    page.goto(f"{live_server.url}/console/")
    page.click("#console-alerts a:text('Alerts')")
    page.click(f"#alert-{alert.pk} input[value=Acknowledge]")
    page.wait_for_load_state()
    # then
    assert StockLevel.objects.get(product=shop["tee"], location=shop["store"]).on_hand == 3
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
