"""What holds for the whole API: auth, the schema and its docs, the error envelope."""

import pytest
from django.db import DataError
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS

from core.api.errors import exception_handler

pytestmark = pytest.mark.django_db

# Every inventory endpoint, as (method, URL name, URL args).
INVENTORY_ENDPOINTS = [
    ("get", "products", []),
    ("post", "products", []),
    ("get", "product-detail", ["SKU-1"]),
    ("patch", "product-detail", ["SKU-1"]),
    ("get", "locations", []),
    ("post", "locations", []),
    ("get", "location-detail", ["DC"]),
    ("patch", "location-detail", ["DC"]),
    ("get", "stock", []),
    ("post", "stock-movements", []),
    ("get", "availability", []),
    ("post", "stock-counts", []),
]


@pytest.mark.parametrize("method, name, args", INVENTORY_ENDPOINTS)
def test_nothing_under_api_v1_answers_without_a_token(anonymous_api, method, name, args):
    # when
    response = getattr(anonymous_api, method)(reverse(name, args=args), {}, format="json")
    # then
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize("method, name, args", INVENTORY_ENDPOINTS)
def test_a_wrong_token_is_a_401(anonymous_api, method, name, args):
    # given
    anonymous_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    # when
    response = getattr(anonymous_api, method)(reverse(name, args=args), {}, format="json")
    # then
    assert response.status_code == 401


def test_the_schema_answers_and_documents_the_inventory_endpoints(client):
    # given
    GENERATOR_STATS.reset()
    # when
    response = client.get(reverse("api-schema"), {"format": "json"})
    # then
    assert response.status_code == 200
    schema = response.json()
    for path in [
        "/api/v1/products/",
        "/api/v1/products/{sku}/",
        "/api/v1/locations/",
        "/api/v1/locations/{code}/",
        "/api/v1/stock/",
        "/api/v1/stock/movements/",
        "/api/v1/availability/",
    ]:
        assert path in schema["paths"], path
    movement = schema["paths"]["/api/v1/stock/movements/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in movement["parameters"]]
    assert "201" in movement["responses"]
    assert not GENERATOR_STATS._error_cache
    ours = [w for w in GENERATOR_STATS._warn_cache if "inventory/" in w or "oms/api" in w]
    assert ours == []


def test_the_docs_page_answers(client):
    # when
    response = client.get(reverse("api-docs"))
    # then
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_an_unknown_path_under_the_api_is_a_404(api):
    assert api.get("/api/v1/no-such-thing/").status_code == 404


def test_an_invalid_page_is_a_404_not_a_500(api):
    # when
    response = api.get(reverse("products"), {"page": 99})
    # then
    assert response.status_code == 404


@pytest.mark.parametrize("page_size", ["abc", "-1", "0", "99999999999999999999999"])
def test_a_silly_page_size_falls_back_to_the_default(api, page_size):
    # when
    response = api.get(reverse("products"), {"page_size": page_size})
    # then
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/?sku=%00",
        "/api/v1/products/%00/",
        "/api/v1/locations/%00/",
        "/api/v1/locations/?code=%00",
        "/api/v1/stock/?sku=%00&location=%00",
        "/api/v1/availability/?sku=%00",
        "/api/v1/availability/?sku=A&channel=%00",
        "/api/v1/products/%ED%A0%80/",
    ],
)
def test_a_nul_or_broken_character_in_a_url_is_a_4xx(api, url):
    # PostgreSQL refuses NUL in text outright; it must not surface as a 500.
    assert 400 <= api.get(url).status_code < 500


def test_a_value_the_database_refuses_is_a_400_not_a_500():
    # when
    response = exception_handler(DataError("integer out of range"), {})
    # then
    assert response.status_code == 400
    assert "detail" in response.data
