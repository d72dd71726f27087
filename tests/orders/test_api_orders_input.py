"""The order's input, defined once (orders.inputs.OrderBody): what it takes, how it
normalises, and how it refuses, always naming the field and never with a 500."""

import copy

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import FieldErrors
from core.structs import struct_convert
from orders.exceptions import OrderRejected
from orders.inputs import MAX_LINES, OrderBody
from orders.models import Order
from orders.services.capture import order_input_check, order_input_resolve
from tests.factories import ChannelFactory, StoreFactory
from tests.orders.helpers import product

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    product("TEE-1")
    product("MUG-1")
    old = product("OLD-1")
    old.active = False
    old.save(update_fields=["active"])
    ChannelFactory(code="closed", active=False)
    StoreFactory(code="ST-1")


def payload(**changes) -> dict:
    body = {
        "channel": "web",
        "external_id": "W-1",
        "customer": {"email": "Ada@Example.com", "name": "Ada Lovelace", "phone": "+33 6 12"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "line2": "bâtiment B",
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


def read(body):
    data = order_input_resolve(struct_convert(body, OrderBody))
    order_input_check(data)
    return data


def refusal(body) -> dict:
    with pytest.raises(FieldErrors) as refused:
        read(body)
    return refused.value.errors


def test_a_plain_order_is_read_with_its_codes_looked_up(network):
    # when
    data = read(payload())
    # then
    assert data.channel.code == "web"
    assert [(li.product.sku, li.quantity, str(li.unit_price)) for li in data.lines] == [
        ("TEE-1", 2, "19.90"),
        ("MUG-1", 1, "7.50"),
    ]
    assert (data.external_id, data.email, data.name, data.phone) == (
        "W-1",
        "Ada@Example.com",
        "Ada Lovelace",
        "+33 6 12",
    )
    assert data.address == {
        "line1": "1 rue de Rivoli",
        "line2": "bâtiment B",
        "city": "Paris",
        "postcode": "75001",
        "country": "FR",
        "lat": 48.8606,
        "lon": 2.3376,
    }
    assert (data.delivery_method, data.pickup_location, data.currency) == ("standard", None, "EUR")


@pytest.mark.parametrize(
    ("changes", "seen"),
    [
        ({"currency": "usd"}, lambda d: d.currency == "USD"),
        ({"channel": " web "}, lambda d: d.channel.code == "web"),
        ({"external_id": "  W-2 "}, lambda d: d.external_id == "W-2"),
        ({"pickup_location": ""}, lambda d: d.pickup_location is None),
        (
            {"customer": {"email": " a@example.com "}},
            lambda d: (d.email, d.name) == ("a@example.com", ""),
        ),
        (
            {"shipping_address": {"line1": "1", "city": "Lyon", "country": "fr", "line2": None}},
            lambda d: (
                (d.address["country"], d.address["line2"], d.address["lat"]) == ("FR", "", None)
            ),
        ),
        (
            {
                "lines": [
                    {"sku": "TEE-1", "quantity": 1, "unit_price": p}
                    for p in (3, 0, "0.5", " 1.5", "1e2")
                ]
            },
            lambda d: (
                [str(li.unit_price) for li in d.lines] == ["3.00", "0.00", "0.50", "1.50", "100.00"]
            ),
        ),
        (
            {"lines": [{"sku": "TEE-1", "quantity": 1_000_000}]},
            lambda d: d.lines[0].quantity == 1_000_000,
        ),
        (
            {
                "delivery_method": "click_and_collect",
                "pickup_location": "ST-1",
                "shipping_address": None,
            },
            lambda d: d.pickup_location.code == "ST-1",
        ),
        ({"unknown_field": 1}, lambda d: d.channel.code == "web"),
    ],
)
def test_a_body_is_taken_in_its_normal_form(network, changes, seen):
    assert seen(read(payload(**changes)))


# (a change to the plain body, the errors it answers)
REFUSALS = [
    ({"channel": "nope"}, {"channel": ["Unknown channel 'nope'."]}),
    ({"channel": 5}, {"channel": ["A string is required."]}),
    ({"channel": "x" * 33}, {"channel": ["No more than 32 characters."]}),
    (
        {"channel": "\u200bweb"},
        {
            "channel": [
                "A code may not contain invisible or control characters (U+200B ZERO WIDTH SPACE)."
            ]
        },
    ),
    ({"external_id": "x" * 129}, {"external_id": ["No more than 128 characters."]}),
    (
        {"customer": {"email": "not-an-email"}},
        {"customer": {"email": ["Enter a valid email address."]}},
    ),
    ({"customer": {"name": "Ada"}}, {"customer": {"email": ["This field is required."]}}),
    (
        {"customer": {"email": "a@b.fr", "phone": "12a4"}},
        {"customer": {"phone": ["A phone number: digits, spaces, + ( ) . - / only."]}},
    ),
    (
        {"customer": {"email": "a@b.fr", "phone": "123"}},
        {"customer": {"phone": ["A phone number has 4 to 20 digits."]}},
    ),
    ({"customer": None}, {"customer": ["An object is required."]}),
    ({"shipping_address": None}, {"shipping_address": ["Required for standard delivery."]}),
    (
        {"shipping_address": {"line1": " ", "city": "Lyon", "country": "FR"}},
        {"shipping_address": {"line1": ["This field may not be blank."]}},
    ),
    (
        {"shipping_address": {"line1": "1", "city": "Lyon", "country": "F1"}},
        {"shipping_address": {"country": ["An ISO 3166 country code: two letters (e.g. FR)."]}},
    ),
    (
        {"shipping_address": {"line1": "1", "city": "Lyon", "country": "FR", "lat": 45.7}},
        {"shipping_address": {"lon": ["Give lat and lon together, or neither."]}},
    ),
    (
        {
            "shipping_address": {
                "line1": "1",
                "city": "Lyon",
                "country": "FR",
                "lat": 90.5,
                "lon": 0,
            }
        },
        {"shipping_address": {"lat": ["No more than 90."]}},
    ),
    (
        {
            "shipping_address": {
                "line1": "1",
                "city": "Lyon",
                "country": "FR",
                "lat": True,
                "lon": 0,
            }
        },
        {"shipping_address": {"lat": ["A number is required (e.g. 48.8566)."]}},
    ),
    ({"delivery_method": "teleport"}, {"delivery_method": ["'teleport' is not a valid choice."]}),
    (
        {"delivery_method": "click_and_collect", "pickup_location": "NOPE"},
        {"pickup_location": ["No location with code 'NOPE'."]},
    ),
    ({"currency": "XYZ"}, {"currency": ["'XYZ' is not an ISO 4217 currency code (e.g. EUR)."]}),
    ({"currency": "EURO"}, {"currency": ["No more than 3 characters."]}),
    ({"lines": []}, {"lines": ["Give at least 1 item(s)."]}),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1}] * 501},
        {"lines": ["Give no more than 500 items."]},
    ),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]},
        {"lines": [{}, {"sku": ["Unknown SKU 'NOPE'."]}]},
    ),
    (
        {"lines": [{"sku": "OLD-1", "quantity": 1}]},
        {"lines": [{"sku": ["SKU 'OLD-1' is no longer sold."]}]},
    ),
    ({"lines": [{"sku": "TEE-1", "quantity": 0}]}, {"lines": [{"quantity": ["At least 1."]}]}),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1_000_001}]},
        {"lines": [{"quantity": ["No more than 1000000."]}]},
    ),
    (
        {"lines": [{"sku": "TEE-1", "quantity": "2"}]},
        {"lines": [{"quantity": ['A whole number is required (e.g. 3, not "3" or 3.0).']}]},
    ),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 2.0}]},
        {"lines": [{"quantity": ['A whole number is required (e.g. 3, not "3" or 3.0).']}]},
    ),
    ({"lines": [{"sku": "TEE-1"}]}, {"lines": [{"quantity": ["This field is required."]}]}),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "1.999"}]},
        {"lines": [{"unit_price": ["No more than 2 decimal places."]}]},
    ),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": -1}]},
        {"lines": [{"unit_price": ["A price of 0 or more is required."]}]},
    ),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "NaN"}]},
        {"lines": [{"unit_price": ["A price of 0 or more is required."]}]},
    ),
    (
        {"lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "10000000000"}]},
        {"lines": [{"unit_price": ["No more than 10 digits before the point."]}]},
    ),
    ({"reservation": "not-a-uuid"}, {"reservation": ["Must be a valid UUID."]}),
    (
        {"reservation": "7b1e6f3c-0b5a-4e0f-9a51-1d7f8f3c2a10"},
        {"reservation": ["No reservation '7b1e6f3c-0b5a-4e0f-9a51-1d7f8f3c2a10'."]},
    ),
]


@pytest.mark.parametrize(("changes", "errors"), REFUSALS)
def test_a_refusal_names_the_field_in_words(network, changes, errors):
    assert refusal(payload(**changes)) == errors


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"channel": "closed"}, "channel", "Channel 'closed' is not active."),
        (
            {"delivery_method": "click_and_collect"},
            "pickup_location",
            "Click & collect needs a pickup location.",
        ),
        ({"pickup_location": "ST-1"}, "pickup_location", "Only for click_and_collect."),
    ],
)
def test_what_the_network_cannot_take_is_rejected_by_capture(network, changes, field, message):
    # A well-formed order the network refuses is capture's to refuse, for every way in.
    with pytest.raises(OrderRejected) as rejected:
        read(payload(**changes))
    assert (rejected.value.field, rejected.value.message) == (field, message)


def test_a_body_that_is_not_an_object_is_refused_as_a_whole(network):
    assert refusal([payload()]) == {"non_field_errors": ["An object is required."]}


ANYTHING = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
        st.sampled_from(["web", "TEE-1", "EUR", "FR", "ST-1", "click_and_collect", "1.5"]),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
PATHS = [
    ("channel",),
    ("external_id",),
    ("customer",),
    ("customer", "email"),
    ("customer", "phone"),
    ("shipping_address",),
    ("shipping_address", "line2"),
    ("shipping_address", "country"),
    ("shipping_address", "lat"),
    ("delivery_method",),
    ("pickup_location",),
    ("currency",),
    ("lines",),
    ("lines", 1),
    ("lines", 1, "sku"),
    ("lines", 1, "quantity"),
    ("lines", 1, "unit_price"),
    ("reservation",),
]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.tuples(st.sampled_from(PATHS), ANYTHING), min_size=1, max_size=2))
def test_any_body_is_read_or_refused_naming_a_field_of_it(network, changes):
    # given: a plain order with one or two values replaced by about anything
    body = payload()
    for path, value in changes:
        node = body
        for part in path[:-1]:
            node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
            if node is None:
                break
        if isinstance(node, dict) or (isinstance(node, list) and _has(node, path[-1])):
            node[path[-1]] = copy.deepcopy(value)
    # when
    try:
        read(body)
    except FieldErrors as refused:
        errors = refused.errors
        # then: the field named is one the order has, or the body as a whole
        assert set(errors) <= {*OrderBody.__struct_fields__, "non_field_errors"}
    except OrderRejected as rejected:  # an answer too, naming its field
        assert rejected.field in OrderBody.__struct_fields__


def _has(node, part) -> bool:
    return part in node if isinstance(node, dict) else isinstance(part, int) and part < len(node)


def test_the_openapi_request_body_is_drawn_from_the_one_definition():
    # when
    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"]["/api/v1/orders/"]["post"]["requestBody"]["content"]["application/json"]
    # then: every field, its limits and its choices, as OrderBody states them
    fields = body["schema"]["properties"]
    assert set(fields) == set(OrderBody.__struct_fields__)
    assert set(body["schema"]["required"]) == {"channel", "customer", "currency", "lines"}
    assert fields["external_id"]["maxLength"] == 128
    assert fields["lines"]["maxItems"] == MAX_LINES
    assert fields["lines"]["items"]["properties"]["quantity"]["maximum"] == 1_000_000
    assert set(fields["delivery_method"]["enum"]) == set(Order.DeliveryMethod.values)
    assert fields["shipping_address"]["nullable"] is True
    assert "$ref" not in str(body)
