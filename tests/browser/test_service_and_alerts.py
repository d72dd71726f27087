"""Customer service and the alerts page in a real browser (Debian's Chromium), each page
checked with axe-core: no serious or critical WCAG 2.1 A/AA violation.

With OMS_SCREENSHOTS=1 the screenshots replace those in docs/screenshots/ (README).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alerts.models import Alert
from alerts.services import alerts_evaluate_stock, stock_rule_set
from orders.models import Order
from tests.browser.test_console_flows import CHROMIUM, login, staff
from tests.orders.helpers import place

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={**WCAG, "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page) -> None:
    found = serious_violations(page)
    assert not found, "\n".join(found)


def test_customer_service_finds_a_customer_by_part_of_the_name_and_reads_the_order(
    page, live_server, shop, screenshots
):
    # given
    order = place([(shop["tee"], 2)], email="ada.lovelace@example.com")
    order.lines.update(unit_price=Decimal("19.90"))
    Order.objects.filter(pk=order.pk).update(shipping_price=Decimal("4.90"))
    place([(shop["tee"], 1)], email="someone.else@example.com")
    staff("agent", "customer service")
    login(page, live_server, "agent")
    # when: a part of the surname, typed in the console's find box
    page.fill(".console-nav input[name=q]", "lovel")
    page.click(".console-nav input[type=submit]")
    page.wait_for_selector("#find-results")
    # then
    rows = page.locator("#find-results tbody tr")
    assert rows.count() == 2  # both orders are Ada Lovelace's
    assert "Ada Lovelace" in page.inner_text("#find-results")
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "find.png"), full_page=True)
    # when: the order is opened
    page.click(f"#find-results a:text('{order.number}')")
    page.wait_for_url(f"**/console/orders/{order.number}/")
    # then: totals, delivery, the decision folded in words, SKU linked to its stock
    assert "44.70 EUR" in page.inner_text("#totals")
    assert "Ship to" in page.inner_text("#delivery")
    assert not page.locator("details.oms-sourcing").first.evaluate("d => d.open")
    assert "Runner-ups" not in page.content()
    assert page.locator("a[href='/console/products/TEE-1/stock/']").count() >= 1
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "order.png"), full_page=True)
    # and: cancelling asks first; saying no changes nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("input[value='Cancel order']")
    order.refresh_from_db()
    assert order.status != Order.Status.CANCELLED


def test_the_alerts_page_is_a_compact_table_and_acknowledges_in_bulk(
    page, live_server, shop, screenshots
):
    # given
    stock_rule_set(product=None, location=shop["store"], threshold=10)
    stock_rule_set(product=None, location=shop["dc"], threshold=100)
    alerts_evaluate_stock()
    assert Alert.objects.filter(status="open").count() == 2
    staff("buyer", "inventory manager")
    login(page, live_server, "buyer")
    # when
    page.goto(f"{live_server.url}/console/alerts/")
    # then: one line a row, names and words
    table = page.inner_text("#alerts")
    assert shop["tee"].name in table and "Opéra" in table
    assert "available" in table and "threshold" in table
    heights = page.locator("#alerts tbody tr").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    # Compact: a row was about 180 px as a block of fields; names longer than the demo's
    # (factory sequences) may wrap one line more, so the bound leaves room for that.
    assert max(heights) < 120, page.locator("#alerts tbody tr").all_inner_texts()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
    assert_accessible(page)
    page.screenshot(path=str(screenshots / "alerts.png"), full_page=True)
    # when: all ticked, acknowledged at once
    page.check("#alerts-all")
    page.click("#alerts-bulk button[value=acknowledge]")
    page.wait_for_selector("text=2 alert(s) acknowledged.")
    # then
    assert set(Alert.objects.values_list("status", flat=True)) == {"acknowledged"}


def test_desktop_lists_fit_1280_pixels(page, live_server, shop):
    # given: lists with rows, seen by someone who keeps the admin's model list
    place([(shop["tee"], 1)], email="wide.customer.name@example.com")
    staff("buyer", "inventory manager")
    login(page, live_server, "buyer")
    lists = [
        "/admin/orders/order/",
        "/admin/fulfilment/fulfilment/",
        "/admin/inventory/stocklevel/",
        "/admin/inventory/stockmovement/",
        "/console/orders/?q=wide",
        "/console/alerts/",
        "/console/queues/to-accept/",
    ]
    too_wide = {}
    for url in lists:
        # when
        page.goto(f"{live_server.url}{url}")
        # then: nothing runs off the right edge of a 1280 px window
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 1280:
            too_wide[url] = width
    assert too_wide == {}
