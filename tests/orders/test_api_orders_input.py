"""The shortcut past OrderInputSerializer (`order_input_parse`) takes the plain orders
integrations send, never takes a body the serializer refuses, and answers what the
serializer answers for every body it takes."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.api.serializers import OrderInputSerializer, order_input_parse
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


def serializer_input(body):
    serializer = OrderInputSerializer(data=body)
    return serializer.to_order_input() if serializer.is_valid() else None


def assert_same(quick, slow):
    assert slow is not None, "the shortcut took a body the serializer refuses"
    assert quick.channel.pk == slow.channel.pk
    assert [(li.product.pk, li.quantity, str(li.unit_price)) for li in quick.lines] == [
        (li.product.pk, li.quantity, str(li.unit_price)) for li in slow.lines
    ]
    assert (quick.external_id, quick.email, quick.name, quick.phone, quick.currency) == (
        slow.external_id,
        slow.email,
        slow.name,
        slow.phone,
        slow.currency,
    )
    assert quick.address == slow.address
    assert [type(value) for value in quick.address.values()] == [
        type(value) for value in slow.address.values()
    ]
    assert str(quick.delivery_method) == str(slow.delivery_method)
    assert quick.pickup_location is slow.pickup_location is None


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"external_id": ""},
        {"delivery_method": "express"},
        {"currency": "usd"},
        {"pickup_location": ""},
        {"customer": {"email": "a@example.com"}},
        {"shipping_address": {"line1": "1", "city": "Lyon", "country": "fr", "line2": None}},
        {"shipping_address": {"line1": "1", "city": "Lyon", "country": "FR", "lat": 0, "lon": 0}},
        {"lines": [{"sku": "TEE-1", "quantity": 1}, {"sku": "TEE-1", "quantity": 1_000_000}]},
        {"lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": p} for p in (3, 0, "0.5")]},
    ],
)
def test_the_shortcut_takes_a_plain_order_as_the_serializer_would(network, changes):
    # when
    quick = order_input_parse(payload(**changes))
    # then
    assert quick is not None
    assert_same(quick, serializer_input(payload(**changes)))


@pytest.mark.parametrize(
    "changes",
    [
        {"channel": " web"},
        {"channel": "closed"},
        {"delivery_method": "click_and_collect", "pickup_location": "ST-1"},
        {"lines": [{"sku": "OLD-1", "quantity": 1}]},
        {"lines": [{"sku": "NOPE", "quantity": 1}]},
        {"lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "1.999"}]},
        {"customer": {"email": "not-an-email"}},
    ],
)
def test_the_shortcut_leaves_the_rest_to_the_serializer(network, changes):
    # when / then
    assert order_input_parse(payload(**changes)) is None


def near(valid: str, limit: int, *more: str):
    """Strings a field might almost take: padded, at and past its length, with NUL or a lone
    surrogate, or anything over a small alphabet."""
    variants = [valid, f" {valid}", f"{valid} ", f"\t{valid}", valid.upper(), valid.lower()]
    variants += ["", " ", "x" * limit, "x" * (limit + 1), "é" * limit, "é" * (limit + 1)]
    variants += [f"{valid}\x00", f"{valid}\ud800", *more]
    return st.one_of(
        st.sampled_from(variants),
        st.text(alphabet=st.sampled_from(list("aZ09 .@+-()/\x00é\u2028\t")), max_size=limit + 2),
    )


NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-200, max_value=200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-200, max_value=200),
    st.sampled_from([0, 1, -1, 90, 90.0, 90.0001, -180, 180.5, 1_000_000, 1_000_001, 2.0, True]),
)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.text(max_size=4),
    st.lists(st.sampled_from(["web", 1]), max_size=2),
    st.dictionaries(st.sampled_from(["sku", "email"]), st.sampled_from(["x"]), max_size=1),
)
EMAILS = ["a@b", "a@b.c", "a@-b.com", "a..b@c.com", "a@[127.0.0.1]", "ü@example.com"]
PRICES = st.from_regex(r"[ +-]?[0-9]{0,12}(\.[0-9]{0,3})?([eE][+-]?[0-9])? ?", fullmatch=True)
FIELDS = {
    ("channel",): near("web", 32, "app", "marketplace", "closed"),
    ("external_id",): near("W-1", 128),
    ("customer", "email"): near("a@example.com", 254, *EMAILS),
    ("customer", "name"): near("Ada", 255),
    ("customer", "phone"): st.from_regex(r"[+]?[0-9 ().\-/a]{0,34}", fullmatch=True),
    ("shipping_address", "line1"): near("1 rue", 255),
    ("shipping_address", "line2"): near("bât B", 255),
    ("shipping_address", "city"): near("Paris", 128),
    ("shipping_address", "postcode"): near("75001", 16),
    ("shipping_address", "country"): st.text(st.sampled_from(list("Fr1 É")), max_size=3),
    ("shipping_address", "lat"): NUMBERS,
    ("shipping_address", "lon"): NUMBERS,
    ("delivery_method",): near("express", 24, "standard", "same_day", "click_and_collect"),
    ("pickup_location",): near("ST-1", 32),
    ("currency",): st.from_regex(r"[A-Za-z ]{0,4}", fullmatch=True),
    ("lines", 1, "sku"): near("MUG-1", 64, "OLD-1", "NOPE", "TEE-1"),
    ("lines", 1, "quantity"): NUMBERS,
    ("lines", 1, "unit_price"): st.one_of(PRICES, NUMBERS),
}
MISSING = object()

# Values at the edges of what each field takes, each tried on its own.
EDGES = [
    *[(("shipping_address", "lat"), v) for v in (90, 90.0001, -90, -90.5, 0, 1e-300)],
    *[(("shipping_address", "lon"), v) for v in (180, 180.01, -180.0, -181, 10**400)],
    *[(("shipping_address", "country"), v) for v in ("F1", "fr", "FRA", " FR", "ÉÉ", "F")],
    *[(("shipping_address", "postcode"), v) for v in ("x" * 16, "x" * 17, "")],
    *[(("shipping_address", "line2"), v) for v in (None, "", " ", "x" * 255, "x" * 256)],
    *[(("lines", 1, "quantity"), v) for v in (1_000_000, 1_000_001, 0, True, 2.0, "2")],
    *[
        (("lines", 1, "unit_price"), v)
        for v in (
            "9999999999.99",
            "10000000000",
            "1.999",
            "-0",
            "0.0",
            "00.5",
            " 1.5",
            "1e2",
            0.1,
            1e-7,
            1e10,
            1e16,
            -1,
            10**10,
            10**12,
            None,
        )
    ],
    *[
        (("customer", "phone"), v)
        for v in ("123", "1234", "+" + "1" * 20, "1" * 21, "(01) 23", "0033 1", "12a4", " 1234")
    ],
    *[(("customer", "email"), v) for v in (*EMAILS, "A@EXAMPLE.COM", "x" * 250 + "@b.co")],
    *[(("external_id",), v) for v in ("x" * 128, "x" * 129, " x", "", None, "W\x00")],
    *[(("customer", "name"), v) for v in ("Ada\x00", "Ada\ud800", "Zoë", "", None)],
    *[(("shipping_address", "city"), v) for v in ("Par\x00is", "Orléans\udfff", "Zürich")],
    *[(("lines", 1, "sku"), v) for v in ("MUG-1\x00", "MUG-1\ud800", " MUG-1", "mug-1")],
    *[(("currency",), v) for v in ("eur", "EURO", "XYZ", "Eur", " EUR")],
    *[(("delivery_method",), v) for v in ("same_day", "SAME_DAY", "", None)],
]


@pytest.mark.parametrize(("path", "value"), EDGES)
def test_at_the_edges_the_shortcut_answers_as_the_serializer(network, path, value):
    # given
    body = payload()
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    # when
    quick = order_input_parse(copy.deepcopy(body))
    # then
    if quick is not None:
        assert_same(quick, serializer_input(body))


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    changes=st.lists(
        st.sampled_from(sorted(FIELDS, key=str)).flatmap(
            lambda path: st.tuples(
                st.just(path), st.one_of(FIELDS[path], ANYTHING, st.just(MISSING))
            )
        ),
        min_size=1,
        max_size=2,
    )
)
def test_the_shortcut_never_takes_what_the_serializer_refuses(network, changes):
    # given: a plain order with one or two values replaced by about anything, or left out
    body = payload()
    for path, value in changes:
        node = body
        for part in path[:-1]:
            node = node[part]
        if value is MISSING:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = copy.deepcopy(value)
    # when
    quick = order_input_parse(copy.deepcopy(body))
    # then
    if quick is not None:
        assert_same(quick, serializer_input(body))
