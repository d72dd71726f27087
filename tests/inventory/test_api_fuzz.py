"""Random JSON at every inventory POST endpoint: a 4xx at worst, never a 5xx."""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "products": ["sku", "name", "barcode", "price", "active"],
    "locations": [
        "code", "name", "kind", "lat", "lon", "ships", "click_and_collect", "priority",
        "shipment_cost", "cost_per_km", "unit_cost", "processing_days", "cutoff_time",
        "time_zone", "country",
    ],
    "stock-movements": ["sku", "location", "kind", "quantity", "reference", "reason"],
}  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
    st.sampled_from(["SKU-1", "DC", "receipt", "adjustment", "12:30", "1e999", "NaN", "-0"]),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _bodies(endpoint: str):
    shaped = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS[endpoint], json_values))
    return st.one_of(shaped, json_values)


FUZZ = settings(
    max_examples=80,
    database=None,  # no .hypothesis/ folder in the checkout
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def known_names():
    """A product and a location the fuzzer can name, so bodies get past the lookups."""
    ProductFactory(sku="SKU-1")
    LocationFactory(code="DC")


def _post(api, endpoint: str, body, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    raw = json.dumps(body)  # Python's json writes huge ints and such as they are
    return api.post(reverse(endpoint), raw, content_type="application/json", **headers)


@pytest.mark.parametrize("endpoint", list(FIELDS))
def test_random_json_never_makes_a_5xx(api, known_names, endpoint):
    @FUZZ
    @given(body=_bodies(endpoint), key=st.none() | st.text(max_size=20))
    def check(body, key):
        response = _post(api, endpoint, body, key)
        assert response.status_code < 500, (body, response.content)
        if response.status_code == 400:
            assert "errors" in response.json() or "detail" in response.json()

    check()


@pytest.mark.parametrize("endpoint", list(FIELDS))
@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"nul", b"\xff\xfe", b'{"sku": "\\ud800"}', b"[" * 5000, b"1" * 5000, b'"x"'],
)
def test_broken_bodies_are_a_400(api, endpoint, raw):
    # when
    response = api.post(reverse(endpoint), raw, content_type="application/json")
    # then
    assert response.status_code == 400
