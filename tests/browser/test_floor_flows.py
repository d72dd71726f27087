"""The shop floor in a real browser, on a desktop screen and on a 390 px phone: the
warehouse accepts, prints a batched pick list and packing slips, ships and refuses a damaged
unit; the store hands a pickup over against its code (to someone else) and orders for a
customer in the store from a nearby store. Every page passes axe-core with no serious or
critical violation, fits the screen's width, and offers targets of at least 44 px."""

from __future__ import annotations

import os

import pytest

from fulfilment.models import Fulfilment
from inventory.models import StockMovement
from inventory.services import stock_bin_set
from orders.models import Order
from orders.services.fulfilments import fulfilment_ready
from tests.browser.test_console_flows import ARGS, CHROMIUM, login, staff
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# What a finger must be able to hit on the floor's pages (WCAG 2.5.5); inline links in text
# are exempt, as the criterion allows.
TARGETS = (
    ".floor .button, .floor button, .floor select, .floor label.check, .floor-places a, "
    ".floor input:not([type=hidden]):not([type=checkbox]):not([type=radio]), "
    ".tools a, .tools button"
)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(params=sorted(SCREENS))
def page(request, chromium):
    context = chromium.new_context(**SCREENS[request.param])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.screen = request.param
    yield page
    context.close()


def check(page) -> None:
    """Assert the page now shown is accessible, fits the screen, and has big targets."""
    from axe_playwright_python.sync_playwright import Axe

    # The admin's style sheets (its narrow-screen rules among them) load after the markup.
    page.wait_for_load_state("load")
    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 1)
            .slice(-3).map((e) => e.outerHTML.slice(0, 100))""",
        width,
    )
    assert scroll <= width, f"{page.url} is {scroll} px wide on a {width} px screen: {wide}"
    small = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((e) => e.offsetParent !== null)
            .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44)
            .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        TARGETS,
    )
    assert small == [], f"{page.url}: targets under 44 px: {small}"


@pytest.fixture
def shop():
    tee, mug = product("TEE-1"), product("MUG-1")
    dc = warehouse("DC-PARIS")
    opera = StoreFactory(code="ST-OPERA", name="Opéra", lat=48.871, lon=2.332, ships=False)
    bastille = StoreFactory(code="ST-BASTILLE", name="Bastille", lat=48.853, lon=2.369, ships=False)
    for sku in (tee, mug):
        stocked(sku, dc, 20)
    stocked(tee, opera, 5)
    stocked(mug, bastille, 3)
    stock_bin_set(product=tee, location=dc, bin="B-02-1")
    stock_bin_set(product=mug, location=dc, bin="A-01-3")
    return {"tee": tee, "mug": mug, "dc": dc, "opera": opera, "bastille": bastille}


def test_the_warehouse_accepts_prints_a_pick_list_ships_and_refuses_a_damaged_unit(
    page, live_server, shop
):
    # given: two orders for the warehouse
    first = place([(shop["tee"], 1), (shop["mug"], 2)], email="one@example.com")
    second = place([(shop["tee"], 3)], email="two@example.com")
    staff("picker", "warehouse staff", shop["dc"])
    login(page, live_server, "picker")
    # when: both are accepted from the floor
    page.goto(f"{live_server.url}/console/floor/")
    check(page)
    for order in (first, second):
        page.click(f"#step-to-accept [data-order='{order.number}'] button:text('Accept')")
        page.wait_for_selector(f"text=Order {order.number} accepted")
    check(page)
    # and: one pick list for both, walked in bin order
    page.click("#pick-list-button")
    page.wait_for_selector("#pick-lines")
    check(page)
    bins = page.locator("#pick-lines td.bin").all_inner_texts()
    assert bins == sorted(bins) and bins[0] == "A-01-3"
    assert len(bins) == 3
    page.go_back()
    page.click("#packing-slips-button")
    page.wait_for_selector(f"section.slip[data-order='{second.number}']")
    check(page)
    page.go_back()
    # and: the first ships; one tee of the second is damaged
    card = page.locator(f"#step-to-pick [data-order='{first.number}']")
    card.locator("input[name=carrier]").fill("UPS")
    card.locator("input[name=tracking_number]").fill("1Z999")
    card.locator("button:text('Shipped')").click()
    page.wait_for_selector(f"text=Order {first.number} shipped")
    page.click(f"#step-to-pick [data-order='{second.number}'] a:text('Refuse units…')")
    page.wait_for_selector("#reject-form")
    check(page)
    page.fill("#reject-form input[type=number]", "1")
    page.select_option("#reason_code", "damaged")
    page.fill("#reason", "box crushed")
    page.click("#reject-form button[type=submit]")
    page.wait_for_selector("text=1 unit(s) refused")
    # then
    assert Fulfilment.objects.get(order=first).tracking_number == "1Z999"
    kept = Fulfilment.objects.get(order=second, location=shop["dc"])
    assert sum(a.quantity for a in kept.allocations.open()) == 2
    assert StockMovement.objects.get(kind="damage").quantity == -1


def test_the_store_hands_a_pickup_over_against_its_code_and_orders_for_a_customer(
    page, live_server, shop
):
    # given: a click & collect order ready at the Opéra store
    pickup = place(
        [(shop["tee"], 1)],
        email="grace@example.com",
        delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
        pickup_location=shop["opera"],
    )
    fulfilment_ready(fulfilment_id=pickup.fulfilments.get().pk)
    pickup.refresh_from_db()
    staff("clerk", "store staff", shop["opera"])
    login(page, live_server, "clerk")
    # when: the code is typed at the counter, and her son collects
    page.goto(f"{live_server.url}/console/floor/")
    check(page)
    page.click("#floor-counter")
    check(page)
    page.fill("#find-code", pickup.pickup_code.lower())
    page.keyboard.press("Enter")  # a scanner ends with Enter
    page.wait_for_selector("#collect-form")
    check(page)
    page.check("#someone-else")
    page.fill("#collected-by", "Her son, Tom")
    page.click("#hand-over")
    page.wait_for_selector(f"text=Order {pickup.number} handed over to Her son, Tom")
    # and: a customer wants a mug the store lacks; Bastille has some
    page.goto(f"{live_server.url}/console/floor/stock/MUG-1/")
    check(page)
    page.click("#nearby li[data-location='ST-BASTILLE'] a.button")
    page.wait_for_selector("#aisle-form")
    check(page)
    page.fill("#id_quantity", "2")
    page.fill("#id_name", "Ada Lovelace")
    page.fill("#id_email", "ada@example.com")
    page.click("#place-order")
    page.wait_for_selector("#placed")
    check(page)
    # then
    pickup.refresh_from_db()
    assert pickup.status == Order.Status.COLLECTED
    assert Fulfilment.objects.get(order=pickup).collected_by == "Her son, Tom"
    ordered = Order.objects.get(customer_email="ada@example.com", channel__code="store")
    assert (ordered.pickup_location, ordered.status) == (shop["bastille"], "allocated")
