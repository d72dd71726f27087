"""The order page for customer service: totals, SKU links, confirmations, the sourcing
decision in words (internals for inventory managers and administrators only), and the
delivery block each method needs."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE, INVENTORY_MANAGER
from inventory.models import Location
from inventory.services.ledger import stock_adjust
from orders.console.explain import explanation_in_words
from orders.models import Order
from orders.services.lifecycle import order_line_cancel
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def page(order: Order) -> str:
    return reverse("orders_console:order", args=[order.number])


@pytest.fixture
def tee():
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS"), 10)
    stocked(tee, warehouse("DC-LYON", lat=45.76, lon=4.84), 10)
    return tee


@pytest.fixture
def service(client):
    client.force_login(person("service", CUSTOMER_SERVICE))
    return client


def test_it_totals_lines_cancelled_units_and_delivery(service, tee):
    # given
    order = place([(tee, 3)])
    order.lines.update(unit_price=Decimal("12.50"))
    Order.objects.filter(pk=order.pk).update(shipping_price=Decimal("4.90"))
    order_line_cancel(order=order, line_no=1, quantity=1, actor=None, reason="changed mind")
    # when
    response = service.get(page(order))
    # then
    totals = response.context["totals"]
    assert totals["ordered"] == Decimal("37.50")
    assert totals["cancelled"] == Decimal("12.50")
    assert totals["total"] == Decimal("29.90")
    html = response.content.decode()
    assert 'id="totals"' in html and "29.90 EUR" in html and "−12.50 EUR" in html


def test_skus_link_to_their_stock_page(service, tee):
    # given
    order = place([(tee, 1)])
    # when
    html = service.get(page(order)).content.decode()
    # then
    assert reverse("console:product-stock", args=["TEE-1"]) in html


def test_destructive_actions_ask_for_confirmation(service, tee):
    # given
    order = place([(tee, 2)])
    # when
    html = service.get(page(order)).content.decode()
    # then
    cancel = reverse("orders_console:cancel", args=[order.number])
    assert f'action="{cancel}" data-confirm="Cancel the whole order {order.number}' in html
    line_cancel = reverse("orders_console:line-cancel", args=[order.number, 1])
    assert f'action="{line_cancel}" data-confirm=' in html
    assert "window.confirm" in html


def test_customer_service_reads_the_decision_in_words_without_the_internals(service, tee):
    # given
    order = place([(tee, 2)])
    # when
    response = service.get(page(order))
    # then
    html = response.content.decode()
    words = response.context["sourcing"][0]["words"]
    chosen = order.fulfilments.get().location
    assert words[0].startswith(f"Sent from {chosen.name} (2 units): ")
    assert words[0].endswith(" EUR in logistics.")
    assert "<details" in html and "<details open" not in html
    assert "Runner-ups" not in html and "Split penalty share" not in html
    assert "Logistics cost" not in html


def test_inventory_managers_see_the_internals(client, tee):
    # given
    order = place([(tee, 2)])
    client.force_login(person("manager", INVENTORY_MANAGER))
    # when
    html = client.get(page(order)).content.decode()
    # then
    assert "Chosen locations" in html and "Split penalty share" in html
    assert "Logistics cost" in html


def test_an_allocation_is_recorded_without_runner_ups(tee):
    # when
    order = place([(tee, 2)])
    # then
    explanation = order.events.get(kind="allocated").data["explanation"]
    assert explanation["locations"] and explanation["alternatives"] == []
    assert not any(line.lstrip().startswith("without ") for line in explanation["text"])


def test_the_page_solves_the_runner_ups_when_opened_and_says_when(client, tee):
    # given
    order = place([(tee, 2)])
    chosen = order.fulfilments.get().location
    other = Location.objects.get(code={"DC-PARIS": "DC-LYON", "DC-LYON": "DC-PARIS"}[chosen.code])
    client.force_login(person("manager", INVENTORY_MANAGER))
    # when
    response = client.get(page(order))
    # then
    entry = response.context["sourcing"][0]
    assert entry["runner_ups_at"] is not None
    assert f"Without {chosen.name}, it would have cost" in " ".join(entry["words"])
    html = response.content.decode()
    assert "Runner-ups against stock at " in html and f"without {chosen.code}" in html
    assert "solved against the stock at" in html
    # and nothing of it is written back: the next opening solves them again
    assert order.events.get(kind="allocated").data["explanation"]["alternatives"] == []
    assert other.code in html


def test_the_runner_ups_answer_against_the_stock_as_it_is_now(service, tee):
    # given: the other warehouse sold out after the order was placed
    order = place([(tee, 2)])
    chosen = order.fulfilments.get().location
    other = Location.objects.get(code={"DC-PARIS": "DC-LYON", "DC-LYON": "DC-PARIS"}[chosen.code])
    stock_adjust(product=tee, location=other, quantity=-10, reason="count")
    # when
    words = service.get(page(order)).context["sourcing"][0]["words"]
    # then: the order's own units at the chosen one count as they would for it placed now
    assert f"Without {chosen.name}, 2 units fewer would have been found." in words
    assert not any("alone" in sentence for sentence in words)


def test_a_location_the_order_emptied_still_counts_with_the_units_it_holds(service, tee):
    # given
    cap = product("CAP-1")
    paris = Location.objects.get(code="DC-PARIS")
    stocked(cap, paris, 2)
    order = place([(cap, 2)])
    # when
    words = service.get(page(order)).context["sourcing"][0]["words"]
    # then
    assert f"Without {paris.name}, 2 units fewer would have been found." in words


def test_runner_ups_recorded_with_a_decision_are_shown_as_recorded(service, tee):
    # given: a decision recorded when capture still solved its runner-ups
    order = place([(tee, 2)])
    event = order.events.get(kind="allocated")
    recorded = {
        "label": "without DC-NOWHERE",
        "units": 2,
        "cost": 9.0,
        "shipments": 1,
        "locations": ["DC-ELSEWHERE"],
        "extra_cost": 3.0,
        "units_lost": 0,
        "proven": True,
    }
    event.data["explanation"]["alternatives"] = [recorded]
    event.save(update_fields=["data"])
    # when
    entry = service.get(page(order)).context["sourcing"][0]
    # then
    assert entry["runner_ups_at"] is None
    assert "Without DC-NOWHERE, it would have cost 3.00 EUR more." in entry["words"]


def test_click_and_collect_says_where_to_collect_not_where_to_ship(service, tee):
    # given
    store = StoreFactory(code="ST-RIVOLI", name="Paris Rivoli", city="Paris", postcode="75001")
    stocked(tee, store, 5)
    order = place([(tee, 1)], delivery_method="click_and_collect", pickup_location=store)
    # when
    html = service.get(page(order)).content.decode()
    # then
    delivery = html.split('id="delivery"')[1].split("</table>")[0]
    assert "Collect at" in delivery and "Paris Rivoli" in delivery
    assert "Ship to" not in html


def test_a_shipped_order_says_where_it_goes(service, tee):
    # given
    order = place([(tee, 1)])
    # when
    html = service.get(page(order)).content.decode()
    # then
    delivery = html.split('id="delivery"')[1].split("</table>")[0]
    assert "Ship to" in delivery and "1 rue de Rivoli" in delivery
    assert "Collect at" not in delivery


def test_the_words_name_locations_and_what_each_alternative_would_have_cost():
    # given
    explanation = {
        "rule": "cheapest",
        "locations": [{"location": "DC-LYON", "units": 2, "total": 6.1}],
        "alternatives": [
            {"label": "without DC-LYON", "units_lost": 0, "extra_cost": 1.2},
            {"label": "best single location (DC-PARIS)", "units_lost": 2, "extra_cost": 0},
        ],
    }
    names = {"DC-LYON": "Lyon", "DC-PARIS": "Paris"}
    # when
    words = explanation_in_words(explanation, names, "EUR")
    # then
    assert words == [
        "Sent from Lyon (2 units): 6.10 EUR in logistics.",
        "Without Lyon, it would have cost 1.20 EUR more.",
        "From Paris alone, 2 units fewer would have been found.",
    ]


@pytest.mark.parametrize("junk", [None, "", [], {"locations": "x"}, {"alternatives": [1, None]}])
def test_odd_explanations_give_no_words_and_no_error(junk):
    assert explanation_in_words(junk, {}, "EUR") == []
