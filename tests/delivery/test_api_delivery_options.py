"""POST /api/v1/delivery-options/: each method's rules, dates from calendars, prices, 400s."""

import pytest
from django.urls import reverse

from inventory.models import LocationClosedDay
from orders.delivery.config import delivery_config
from orders.models import DeliveryPrice
from orders.services.delivery_options import Destination, delivery_quote
from supply.services.purchase_orders import purchase_order_create
from tests.delivery.conftest import CUSTOMER, MONDAY, at, day, iso, paris
from tests.orders.helpers import place

URL = reverse("delivery-options")
pytestmark = pytest.mark.django_db


def quote(api, lines, *, when, destination=None, channel="web"):
    body = {
        "channel": channel,
        "lines": [{"sku": sku, "quantity": n} for sku, n in lines],
        "destination": destination or CUSTOMER,
        "at": when,
    }
    return api.post(URL, body, format="json")


def by_method(response) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for option in response.json()["options"]:
        found.setdefault(option["method"], []).append(option)
    return found


def test_it_answers_every_method_the_network_can_serve(api, net):
    # when: one of each, Monday 10:00 in Paris
    response = quote(api, [("TEE", 1), ("MUG", 1)], when=at(MONDAY, 10))
    # then
    assert response.status_code == 200, response.content
    options = by_method(response)
    assert [o["location"] for o in options["click_and_collect"]] == ["ST-RIVOLI", "ST-OPERA"]
    assert options["click_and_collect"][0] == {
        "method": "click_and_collect",
        "location": "ST-RIVOLI",
        "cost": "0.00",
        "currency": "EUR",
        "promised_date": iso(0),
        "shipments": 1,
    }
    assert options["same_day"] == [
        {
            "method": "same_day",
            "location": None,
            "cost": "14.90",
            "currency": "EUR",
            "promised_date": iso(0),
            "shipments": 1,
        }
    ]
    assert options["standard"][0]["cost"] == "4.90"
    assert options["express"][0]["cost"] == "9.90"


def test_click_and_collect_skips_a_store_lacking_one_line(api, net):
    # given: a customer in Lyon; the Lyon store has tees but no mugs
    lyon = {"postcode": "69003", "country": "FR", "lat": 45.76, "lon": 4.85}
    # when
    response = quote(api, [("TEE", 1), ("MUG", 1)], when=at(MONDAY, 10), destination=lyon)
    # then: the Paris stores, though farther, are the ones offered
    stores = [o["location"] for o in by_method(response)["click_and_collect"]]
    assert stores == ["ST-OPERA", "ST-RIVOLI"] or stores == ["ST-RIVOLI", "ST-OPERA"]
    assert "ST-LYON" not in stores
    # and with a tee alone, the Lyon store comes first
    alone = quote(api, [("TEE", 1)], when=at(MONDAY, 10), destination=lyon)
    assert by_method(alone)["click_and_collect"][0]["location"] == "ST-LYON"


def test_click_and_collect_offers_a_bounded_number_of_stores(api, net, settings):
    settings.OMS_PICKUP_OPTIONS_MAX = 1
    response = quote(api, [("TEE", 1)], when=at(MONDAY, 10))
    assert [o["location"] for o in by_method(response)["click_and_collect"]] == ["ST-RIVOLI"]


@pytest.mark.parametrize(
    ("hour", "minute", "ready"),
    [(11, 59, iso(0)), (12, 0, iso(1)), (12, 1, iso(1))],
)
def test_click_and_collect_is_ready_the_same_day_only_before_the_stores_cutoff(
    api, net, hour, minute, ready
):
    response = quote(api, [("TEE", 1)], when=at(MONDAY, hour, minute))
    assert by_method(response)["click_and_collect"][0]["promised_date"] == ready


def test_click_and_collect_after_saturdays_cutoff_is_ready_on_monday(api, net):
    # given: Saturday, 13:00; the stores are closed on Sunday
    response = quote(api, [("TEE", 1)], when=at(day(5), 13))
    assert by_method(response)["click_and_collect"][0]["promised_date"] == iso(7)


def test_a_stores_public_holiday_moves_pickup_to_its_next_open_day(api, net, settings):
    # given: Rivoli closed on Monday; the two Paris stores are the nearest two
    settings.OMS_PICKUP_OPTIONS_MAX = 2
    LocationClosedDay.objects.create(location=net["rivoli"], date=MONDAY, reason="Holiday")
    # when
    response = quote(api, [("TEE", 1)], when=at(MONDAY, 9))
    # then: Rivoli ready on Tuesday, Opera (open) still on Monday
    dates = {o["location"]: o["promised_date"] for o in by_method(response)["click_and_collect"]}
    assert dates == {"ST-RIVOLI": iso(1), "ST-OPERA": iso(0)}


@pytest.mark.parametrize(("hour", "minute", "offered"), [(11, 59, True), (12, 0, False)])
def test_same_day_only_before_the_cutoff_of_a_location_in_the_radius(
    api, net, hour, minute, offered
):
    response = quote(api, [("TEE", 1), ("MUG", 1)], when=at(MONDAY, hour, minute))
    assert ("same_day" in by_method(response)) is offered


def test_same_day_only_within_the_configured_radius(api, net, settings):
    # given: Rivoli is ~1.1 km from the customer
    settings.OMS_SAME_DAY_RADIUS_KM = 1
    response = quote(api, [("TEE", 1), ("MUG", 1)], when=at(MONDAY, 10))
    assert "same_day" not in by_method(response)


def test_shipped_methods_follow_the_cheapest_plan_dated_by_its_slowest_shipment(api, net):
    # given: 5 tees only Paris warehouse has, 5 mugs only Lyon warehouse has (both shippers)
    # when: Monday 10:00
    response = quote(api, [("TEE", 5), ("MUG", 5)], when=at(MONDAY, 10))
    # then: two parcels, dispatched Tuesday; Lyon -> Paris is ~390 km: 3 days standard
    options = by_method(response)
    assert options["standard"][0]["shipments"] == 2
    assert options["standard"][0]["promised_date"] == iso(4)
    # express: one day, but the slowest parcel still decides (both Wednesday)
    assert options["express"][0]["promised_date"] == iso(2)
    # and nobody offers it whole at a store
    assert "click_and_collect" not in options and "same_day" not in options


def test_a_warehouse_order_after_fridays_cutoff_leaves_on_tuesday(api, net):
    # given: Friday 16:00, after the warehouses' cutoff; they shut at weekends
    response = quote(api, [("TEE", 5)], when=at(day(4), 16))
    # then: taken Monday, dispatched Tuesday, 2 days within 300 km: Thursday
    assert by_method(response)["standard"][0]["promised_date"] == iso(10)


def test_standard_is_free_above_the_channels_basket_value(api, net):
    # given: 3 tees at 20.00 = 60.00, the free-delivery threshold
    response = quote(api, [("TEE", 3)], when=at(MONDAY, 10))
    assert by_method(response)["standard"][0]["cost"] == "0.00"
    assert by_method(response)["express"][0]["cost"] == "9.90"


def test_a_method_without_a_price_for_the_channel_is_not_offered(api, net):
    DeliveryPrice.objects.filter(method="express").delete()
    response = quote(api, [("TEE", 1)], when=at(MONDAY, 10))
    assert "express" not in by_method(response) and "standard" in by_method(response)


def test_a_basket_nobody_can_serve_gets_no_options(api, net):
    response = quote(api, [("TEE", 100)], when=at(MONDAY, 10))
    assert response.status_code == 200
    assert response.json() == {"options": []}


def test_reserved_units_are_not_quoted(api, net, settings):
    # given: Rivoli's tees held by another basket; two stores are offered at most
    settings.OMS_PICKUP_OPTIONS_MAX = 2
    from tests.delivery.test_reservations import hold

    hold(net, [("TEE", 2)], store=net["rivoli"])
    # when
    response = quote(api, [("TEE", 2)], when=at(MONDAY, 10))
    # then: Rivoli, the nearest, is passed over
    assert [o["location"] for o in by_method(response)["click_and_collect"]] == [
        "ST-OPERA",
        "ST-LYON",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "nope"}, "channel"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "TEE", "quantity": 0}]}, "lines"),
        ({"lines": [{"sku": "TEE", "quantity": "2"}]}, "lines"),
        ({"lines": []}, "lines"),
        ({"at": "tomorrow"}, "at"),
        ({"at": "2026-03-02T10:00:00"}, "at"),
        ({"at": "2099-03-02T10:00:00+01:00"}, "at"),
        ({"destination": {"lat": 48.8}}, "destination"),
        ({"destination": {"lat": 123, "lon": 2}}, "destination"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, net, change, field):
    body = {
        "channel": "web",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "destination": CUSTOMER,
        **change,
    }
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_an_unknown_sku_is_named_on_its_line(api, net):
    body = {
        "channel": "web",
        "lines": [{"sku": "TEE", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
        "destination": CUSTOMER,
    }
    response = api.post(URL, body, format="json")
    assert response.json()["errors"]["lines"] == [{}, {"sku": ["Unknown SKU 'NOPE'."]}]


def test_anonymous_callers_are_refused(anonymous_api, net):
    response = anonymous_api.post(URL, {}, format="json")
    assert response.status_code in (401, 403)


def test_a_quote_costs_a_fixed_few_queries(api, net, django_assert_max_num_queries):
    # given: the delivery settings in memory, as after a process's first quote
    delivery_config()
    # when / then: token, products, channel, and the stock of the basket at every shipping
    # location and click & collect store in one query
    with django_assert_max_num_queries(4):
        response = quote(api, [("TEE", 1), ("MUG", 1)], when=at(MONDAY, 10))
    assert response.status_code == 200


def _purchase_order(net, units: int, expected_on):
    purchase_order_create(
        number="PO-1",
        supplier="Acme",
        location=net["dc_paris"],
        expected_on=expected_on,
        lines=[(net["tee"], units)],
    )


def test_units_the_shelves_lack_are_offered_from_a_purchase_order_with_its_later_date(api, net):
    # given: 12 tees on the shipping shelves (DC-PARIS 10, Rivoli 2), 10 more expected at
    # DC-PARIS next Monday
    _purchase_order(net, 10, day(7))
    # when: 15 tees, Monday 10:00
    response = quote(api, [("TEE", 15)], when=at(MONDAY, 10))
    # then: shipped methods are offered, dated from the purchase order: received Monday,
    # one processing day, dispatched Tuesday, then 2 days standard, 1 day express; the
    # answer's shape is the contract's
    assert response.status_code == 200, response.content
    options = by_method(response)
    assert options["standard"] == [
        {
            "method": "standard",
            "location": None,
            "cost": "0.00",
            "currency": "EUR",
            "promised_date": iso(10),
            "shipments": options["standard"][0]["shipments"],
        }
    ]
    assert options["standard"][0]["shipments"] in (1, 2)
    assert options["express"][0]["promised_date"] == iso(9)
    # and neither same day nor a store can hand over units not yet there
    assert "same_day" not in options and "click_and_collect" not in options


def test_incoming_units_promised_to_waiting_orders_are_not_offered_again(api, net):
    # given: 10 tees coming; an order took every tee on the shelves and 8 of those coming
    _purchase_order(net, 10, day(7))
    waiting = place([(net["tee"], 20)])
    waiting.refresh_from_db()
    assert waiting.status == "partially_allocated"
    # when
    two = quote(api, [("TEE", 2)], when=at(MONDAY, 10))
    three = quote(api, [("TEE", 3)], when=at(MONDAY, 10))
    # then: two are still free to offer, three are not
    assert by_method(two)["standard"][0]["promised_date"] == iso(10)
    assert "standard" not in by_method(three) and "express" not in by_method(three)


def test_a_basket_neither_the_shelves_nor_incoming_supply_can_serve_gets_no_shipped_option(
    api, net
):
    _purchase_order(net, 10, day(7))
    response = quote(api, [("TEE", 30)], when=at(MONDAY, 10))
    assert response.status_code == 200
    assert "standard" not in by_method(response) and "express" not in by_method(response)


def test_a_pre_order_product_is_quoted_from_incoming_supply_only(api, net):
    # given: the tee is sold as a pre-order, with 10 on the shipping shelves and 10
    # expected at DC-PARIS next Monday
    net["tee"].preorder, net["tee"].preorder_cap = True, 50
    net["tee"].save(update_fields=["preorder", "preorder_cap"])
    _purchase_order(net, 10, day(7))
    # when: 2 tees, Monday 10:00
    response = quote(api, [("TEE", 2)], when=at(MONDAY, 10))
    # then: dated from the purchase order, as capture will promise them, never from the
    # shelves: no same day, no store, standard on the purchase order's date
    assert response.status_code == 200, response.content
    options = by_method(response)
    assert options["standard"][0]["promised_date"] == iso(10)
    assert options["express"][0]["promised_date"] == iso(9)
    assert "same_day" not in options and "click_and_collect" not in options
    # and without incoming supply nothing is offered at all
    assert "standard" not in by_method(quote(api, [("TEE", 11)], when=at(MONDAY, 10)))


def test_a_pre_order_is_quoted_only_as_far_as_its_cap_lets_capture_promise_it(api, net):
    # given: the tee is a pre-order capped at 5, 10 expected at DC-PARIS next Monday, and
    # an order already promised 3 of them
    net["tee"].preorder, net["tee"].preorder_cap = True, 5
    net["tee"].save(update_fields=["preorder", "preorder_cap"])
    _purchase_order(net, 10, day(7))
    place([(net["tee"], 3)], email="first@example.com")
    # when: 3 more tees are quoted, the cap leaving 2
    over = quote(api, [("TEE", 3)], when=at(MONDAY, 10))
    # then: nothing is offered
    assert over.status_code == 200, over.content
    assert over.json()["options"] == []
    # when: 2 are quoted
    under = quote(api, [("TEE", 2)], when=at(MONDAY, 10))
    # then: the standard and express options, dated by the purchase order
    options = by_method(under)
    assert options["standard"][0]["promised_date"] == iso(10)
    assert options["express"][0]["promised_date"] == iso(9)
    # and capture agrees: 2 are promised that date, then the cap leaves none to date
    assert place([(net["tee"], 2)], email="second@example.com").promised_date is not None
    assert place([(net["tee"], 1)], email="third@example.com").promised_date is None
    assert quote(api, [("TEE", 1)], when=at(MONDAY, 10)).json()["options"] == []


def test_the_quote_says_the_pre_order_limit_held_the_units_back(net):
    # given: a cap of 5, 4 promised already
    net["tee"].preorder, net["tee"].preorder_cap = True, 5
    net["tee"].save(update_fields=["preorder", "preorder_cap"])
    _purchase_order(net, 10, day(7))
    place([(net["tee"], 4)])
    # when
    answer = delivery_quote(
        channel=net["web"],
        lines=[(net["tee"], 2)],
        destination=Destination(lat=CUSTOMER["lat"], lon=CUSTOMER["lon"]),
        at=paris(MONDAY, 10),
    )
    # then: each shipped method is refused, naming what the cap leaves
    assert answer.options == []
    standard = next(v for v in answer.verdicts if v.method == "standard")
    assert "TEE (1 unit(s) left under its pre-order limit)" in standard.why
