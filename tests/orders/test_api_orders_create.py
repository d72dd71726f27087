"""POST /api/v1/orders/: validation naming each field, idempotency, nothing written on 400."""

import copy
import json

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import IdempotencyRecord
from inventory.models import Allocation, StockLevel
from orders.delivery.config import delivery_config
from orders.models import Channel, Order, OrderEvent
from tests.factories import ChannelFactory, StoreFactory
from tests.orders.helpers import product, stocked, warehouse

pytestmark = pytest.mark.django_db

URL = reverse("orders")


@pytest.fixture
def network():
    tee, mug = product("TEE-1"), product("MUG-1")
    paris = warehouse("DC-PARIS")
    stocked(tee, paris, 10)
    stocked(mug, paris, 5)
    return {"tee": tee, "mug": mug, "paris": paris}


def payload(**changes) -> dict:
    body = {
        "channel": "web",
        "external_id": "W-100231",
        "customer": {
            "email": "Ada@Example.com",
            "name": "Ada Lovelace",
            "phone": "+33 6 12 34 56 78",
        },
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.8606,
            "lon": 2.3376,
        },
        "delivery_method": "standard",
        "pickup_location": None,
        "currency": "EUR",
        "lines": [
            {"sku": "TEE-1", "quantity": 2, "unit_price": "19.90"},
            {"sku": "MUG-1", "quantity": 1, "unit_price": 7.5},
        ],
    }
    body.update(changes)
    return body


def error_at(body: dict, path: str):
    """Return the messages at a dotted path of `errors` ("lines.1.sku")."""
    node = body["errors"]
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_it_takes_an_order_and_allocates_it_in_the_same_request(api, network):
    # when
    response = api.post(URL, payload(), format="json")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body["number"] == order.number
    assert body["status"] == "allocated" == order.status
    assert (body["channel"], body["external_id"]) == ("web", "W-100231")
    assert body["customer"] == {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "phone": "+33 6 12 34 56 78",
    }
    assert body["shipping_address"]["postcode"] == "75001"
    assert body["shipping_address"]["line2"] == ""
    assert (body["delivery_method"], body["pickup_location"], body["currency"]) == (
        "standard",
        None,
        "EUR",
    )
    assert [
        (li["line"], li["sku"], li["quantity"], li["allocated"], li["shipped"], li["unit_price"])
        for li in body["lines"]
    ] == [(1, "TEE-1", 2, 2, 0, "19.90"), (2, "MUG-1", 1, 1, 0, "7.50")]
    assert sorted(
        (a["sku"], a["location"], a["quantity"], a["status"]) for a in body["allocations"]
    ) == [
        ("MUG-1", "DC-PARIS", 1, "open"),
        ("TEE-1", "DC-PARIS", 2, "open"),
    ]
    [fulfilment] = body["fulfilments"]
    assert (fulfilment["location"], fulfilment["status"]) == ("DC-PARIS", "requested")
    assert fulfilment["lines"] == [{"sku": "TEE-1", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}]
    assert body["tracking_url"].startswith("http://testserver/track/")
    assert body["logistics_cost"] is not None
    assert [e["kind"] for e in body["events"]][:1] == ["created"]
    assert {"public", "actor", "message", "created_at"} <= set(body["events"][0])
    assert body["created_at"] and body["updated_at"]
    tee = StockLevel.objects.get(product=network["tee"], location=network["paris"])
    assert (tee.on_hand, tee.allocated) == (10, 2)
    assert order.customer_email == "ada@example.com"


def test_an_order_without_stock_is_taken_as_backordered(api, network):
    # given
    product("RARE-1")
    # when
    response = api.post(URL, payload(lines=[{"sku": "RARE-1", "quantity": 1}]), format="json")
    # then
    assert response.status_code == 201
    assert response.json()["status"] == "backordered"
    assert response.json()["allocations"] == []
    assert Order.objects.get().status == "backordered"


def test_the_same_external_id_again_answers_200_with_the_existing_order(api, network):
    # given
    first = api.post(URL, payload(), format="json")
    # when
    again = api.post(URL, payload(lines=[{"sku": "TEE-1", "quantity": 9}]), format="json")
    # then
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]
    assert again.json()["lines"][0]["quantity"] == 2
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(product=network["tee"]).allocated == 2


def test_the_same_external_id_on_another_channel_is_another_order(api, network):
    # when
    api.post(URL, payload(), format="json")
    response = api.post(URL, payload(channel="app"), format="json")
    # then
    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_an_idempotency_key_replays_the_first_answer(api, network):
    # given
    body = payload(external_id="")
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    # when
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.get().response_status == 201


def test_an_idempotency_key_reused_for_another_body_is_a_409(api, network):
    # given
    api.post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    # when
    response = api.post(
        URL, payload(external_id="W-2"), format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    # then
    assert response.status_code == 409
    assert "idempotency_key" in response.json()["errors"]
    assert Order.objects.count() == 1


def test_it_needs_a_token(anonymous_api, network):
    # when
    response = anonymous_api.post(URL, payload(), format="json")
    # then
    assert response.status_code == 401
    assert Order.objects.count() == 0


def _line(**changes) -> list[dict]:
    return [{"sku": "TEE-1", "quantity": 1, "unit_price": "1.00", **changes}]


def _address(**changes) -> dict:
    return {**payload()["shipping_address"], **changes}


def _customer(**changes) -> dict:
    return {**payload()["customer"], **changes}


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"channel": None}, "channel"),
        ({"channel": "nowhere"}, "channel"),
        ({"channel": ["web"]}, "channel"),
        ({"external_id": "X" * 129}, "external_id"),
        ({"lines": []}, "lines"),
        ({"lines": None}, "lines"),
        ({"lines": "TEE-1"}, "lines"),
        ({"lines": [None]}, "lines.0"),
        (
            {"lines": [{"sku": "TEE-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]},
            "lines.1.sku",
        ),
        ({"lines": _line(sku="")}, "lines.0.sku"),
        ({"lines": _line(quantity=0)}, "lines.0.quantity"),
        ({"lines": _line(quantity=-3)}, "lines.0.quantity"),
        ({"lines": _line(quantity=1_000_001)}, "lines.0.quantity"),
        ({"lines": _line(quantity=10**40)}, "lines.0.quantity"),
        ({"lines": _line(quantity=2.5)}, "lines.0.quantity"),
        ({"lines": _line(quantity=2.0)}, "lines.0.quantity"),
        ({"lines": _line(quantity="2")}, "lines.0.quantity"),
        ({"lines": _line(quantity=True)}, "lines.0.quantity"),
        ({"lines": _line(quantity=None)}, "lines.0.quantity"),
        ({"lines": _line(unit_price="cheap")}, "lines.0.unit_price"),
        ({"lines": _line(unit_price="-1.00")}, "lines.0.unit_price"),
        ({"lines": _line(unit_price="1.999")}, "lines.0.unit_price"),
        ({"lines": _line(unit_price="NaN")}, "lines.0.unit_price"),
        ({"lines": _line(unit_price="1e400")}, "lines.0.unit_price"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": ""}, "currency"),
        ({"currency": 978}, "currency"),
        ({"customer": None}, "customer"),
        ({"customer": "ada@example.com"}, "customer"),
        ({"customer": _customer(email="not-an-email")}, "customer.email"),
        ({"customer": _customer(email="")}, "customer.email"),
        ({"customer": _customer(phone="call me")}, "customer.phone"),
        ({"shipping_address": None}, "shipping_address"),
        ({"shipping_address": _address(lat=91)}, "shipping_address.lat"),
        ({"shipping_address": _address(lat=-90.5)}, "shipping_address.lat"),
        ({"shipping_address": _address(lon=180.01)}, "shipping_address.lon"),
        ({"shipping_address": _address(lon="2.3")}, "shipping_address.lon"),
        ({"shipping_address": _address(lon=None)}, "shipping_address.lon"),
        ({"shipping_address": _address(country="France")}, "shipping_address.country"),
        ({"shipping_address": _address(city="")}, "shipping_address.city"),
        ({"delivery_method": "teleport"}, "delivery_method"),
        ({"delivery_method": "click_and_collect"}, "pickup_location"),
        ({"delivery_method": "click_and_collect", "pickup_location": "NOWHERE"}, "pickup_location"),
        ({"pickup_location": "ST-PARIS"}, "pickup_location"),
    ],
)
def test_a_bad_order_is_a_400_naming_the_field_and_writes_nothing(api, network, changes, path):
    # given
    StoreFactory(code="ST-PARIS")
    # when
    response = api.post(URL, payload(**changes), format="json")
    # then
    assert response.status_code == 400, response.content
    messages = error_at(response.json(), path)
    assert messages and all(isinstance(m, str) and m for m in _flat(messages))
    assert Order.objects.count() == 0
    assert Allocation.objects.count() == 0


def _flat(messages):
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flat(value)]
    return [messages]


def test_every_bad_line_names_its_own_error_in_one_answer(api, network):
    # when
    response = api.post(
        URL,
        payload(
            lines=[
                {"sku": "TEE-1", "quantity": "1"},
                {"sku": "TEE-1", "quantity": 1},
                {"sku": "TEE-1", "quantity": 0},
            ]
        ),
        format="json",
    )
    # then
    assert response.status_code == 400
    lines = response.json()["errors"]["lines"]
    assert list(lines[0]) == ["quantity"]
    assert lines[1] == {}
    assert lines[2] == {"quantity": ["At least 1."]}


def test_every_unknown_sku_is_named_in_one_answer(api, network):
    # when
    response = api.post(
        URL,
        payload(
            lines=[
                {"sku": "NOPE", "quantity": 1},
                {"sku": "TEE-1", "quantity": 1},
                {"sku": "GONE", "quantity": 1},
            ]
        ),
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["lines"] == [
        {"sku": ["Unknown SKU 'NOPE'."]},
        {},
        {"sku": ["Unknown SKU 'GONE'."]},
    ]


def test_an_inactive_channel_is_refused(api, network):
    # given
    ChannelFactory(code="old-shop", active=False)
    # when
    response = api.post(URL, payload(channel="old-shop"), format="json")
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["channel"] == ["Channel 'old-shop' is not active."]
    assert Order.objects.count() == 0


def test_an_inactive_product_is_refused_on_its_line(api, network):
    # given
    network["mug"].active = False
    network["mug"].save(update_fields=["active"])
    # when
    response = api.post(URL, payload(), format="json")
    # then
    assert response.status_code == 400
    assert error_at(response.json(), "lines.1.sku") == ["SKU 'MUG-1' is no longer sold."]


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({"click_and_collect": False}, "does not offer click & collect"),
        ({"active": False}, "is not active"),
    ],
)
def test_a_pickup_store_that_cannot_take_pickups_is_refused(api, network, store, message):
    # given
    StoreFactory(code="ST-1", **store)
    # when
    response = api.post(
        URL,
        payload(delivery_method="click_and_collect", pickup_location="ST-1"),
        format="json",
    )
    # then
    assert response.status_code == 400
    assert message in response.json()["errors"]["pickup_location"][0]
    assert Order.objects.count() == 0


def test_a_pickup_store_that_does_not_serve_the_channel_is_refused(api, network):
    # given
    store = StoreFactory(code="ST-1")
    Channel.objects.get(code="web").locations.set([network["paris"]])
    stocked(network["tee"], store, 5)
    # when
    response = api.post(
        URL,
        payload(delivery_method="click_and_collect", pickup_location="ST-1"),
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["pickup_location"] == [
        "Location 'ST-1' does not serve channel 'web'."
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"[1, 2]",
        b'"order"',
        b"null",
        b"42",
        b"{",
        b"",
        b"{}",
        b'{"lines": {"a": 1}}',
        b"\xff\xfe",
        b"[" * 100_000,
        b'{"lines": [{"sku": "\\ud800", "quantity": 1}], "channel": "\\u0000"}',
        b'{"lines": ' + b"[" * 100_000 + b"}",
    ],
)
def test_garbage_is_a_400_not_a_500(api, network, raw):
    # when
    response = api.generic("POST", URL, raw, content_type="application/json")
    # then
    assert response.status_code == 400, response.content
    assert set(response.json()) & {"errors", "detail"}
    assert Order.objects.count() == 0


def test_a_form_body_is_refused_as_unsupported(api, network):
    # when
    response = api.post(URL, {"channel": "web"})
    # then
    assert response.status_code == 415
    assert Order.objects.count() == 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(sorted(payload()))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(field=FIELDS, value=JSON, line_field=st.sampled_from(["sku", "quantity", "unit_price"]))
def test_no_body_ever_makes_a_500(api, network, field, value, line_field):
    # given: the valid order with one field, and one field of a line, replaced by anything
    body = payload(external_id="")
    body[field] = value
    if isinstance(body.get("lines"), list) and body["lines"] and isinstance(body["lines"][0], dict):
        body["lines"][0] = {**body["lines"][0], line_field: copy.deepcopy(value)}
    # when
    response = api.post(URL, json.dumps(body), content_type="application/json")
    # then
    assert response.status_code in (200, 201, 400), response.content


def test_a_click_and_collect_basket_the_store_lacks_is_refused_and_nothing_is_written(api, network):
    # given: the store has one tee, the basket wants two (the warehouse has plenty)
    store = StoreFactory(code="ST-LOUVRE")
    stocked(network["tee"], store, 1)
    # when
    response = api.post(
        URL,
        payload(
            delivery_method="click_and_collect",
            pickup_location="ST-LOUVRE",
            shipping_address=None,
            lines=[{"sku": "TEE-1", "quantity": 2}],
        ),
        format="json",
    )
    # then
    assert response.status_code == 400
    assert "ST-LOUVRE" in response.json()["errors"]["pickup_location"][0]
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Allocation.objects.count() == 0
    assert set(StockLevel.objects.values_list("allocated", flat=True)) == {0}


def test_a_new_order_is_answered_as_it_reads_back(api, network):
    # given: a basket split over two locations, with a line that is partly backordered
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(product("LAMP-1"), lyon, 1)
    body = payload(
        lines=[
            {"sku": "TEE-1", "quantity": 2, "unit_price": "19.9"},
            {"sku": "LAMP-1", "quantity": 3},
            {"sku": "MUG-1", "quantity": 1, "unit_price": 7.5},
        ]
    )
    # when
    created = api.post(URL, body, format="json")
    read = api.get(reverse("order-detail", args=[created.json()["number"]]))
    # then
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "partially_allocated"
    assert {f["location"] for f in created.json()["fulfilments"]} == {"DC-PARIS", "DC-LYON"}
    assert created.json() == read.json()


def test_taking_an_order_costs_the_same_few_queries_however_big_the_basket(
    api, network, django_assert_max_num_queries
):
    # given: nine lines over two locations
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    skus = [f"SKU-{i}" for i in range(7)]
    for sku in skus:
        stocked(product(sku), lyon, 3)
    lines = [{"sku": "TEE-1", "quantity": 1}, {"sku": "MUG-1", "quantity": 1}]
    lines += [{"sku": sku, "quantity": 2} for sku in skus]
    # when: token, channel and products, stock read, stock lock, the new rows' keys, then
    # one statement for every row written (order, lines, requests, allocations, stock,
    # timeline, outbox events), and the savepoint a test wraps the transaction in (2); the
    # delivery settings are read once per process, not per order (orders.delivery.config)
    # (SQLite, the embedded mode, sends the statement's parts one by one)
    delivery_config()
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 25):
        response = api.post(URL, payload(lines=lines), format="json")
    # then
    assert response.status_code == 201, response.content
    assert len(response.json()["allocations"]) == 9
    assert len(response.json()["fulfilments"]) == 2


def test_the_same_external_id_with_another_basket_allocates_nothing_more(api, network):
    # given
    first = api.post(URL, payload(), format="json")
    # when: the same order again, asking for more than is left, in another currency
    again = api.post(
        URL, payload(lines=[{"sku": "TEE-1", "quantity": 50}], currency="USD"), format="json"
    )
    # then
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == api.get(reverse("order-detail", args=[first.json()["number"]])).json()
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(product=network["tee"]).allocated == 2
