"""POST/GET /api/v1/products/ and /api/v1/products/{sku}/."""

import pytest
from django.urls import reverse

from inventory.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = reverse("products")


def test_it_creates_a_product(api):
    # given
    # when
    response = api.post(
        URL, {"sku": "TSHIRT-M", "name": "Tee", "price": "19.9", "barcode": "123"}, format="json"
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["sku"] == "TSHIRT-M"
    assert body["price"] == "19.90"
    assert body["currency"] == "EUR"
    assert body["active"] is True
    assert "id" not in body
    product = Product.objects.get(sku="TSHIRT-M")
    assert (product.name, str(product.price), product.barcode) == ("Tee", "19.90", "123")


def test_it_creates_a_product_with_only_sku_and_name(api):
    # when
    response = api.post(URL, {"sku": "A", "name": "Thing"}, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["price"] is None
    assert Product.objects.filter(sku="A", barcode="").exists()


def test_a_duplicate_sku_is_a_400_on_sku_and_changes_nothing(api):
    # given
    ProductFactory(sku="DUP", name="First")
    # when
    response = api.post(URL, {"sku": "DUP", "name": "Second"}, format="json")
    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["sku"]
    assert "already exists" in response.json()["errors"]["sku"][0]
    assert Product.objects.get(sku="DUP").name == "First"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "No sku"}, "sku"),
        ({"sku": "", "name": "Blank"}, "sku"),
        ({"sku": None, "name": "Null"}, "sku"),
        ({"sku": "X" * 65, "name": "Long"}, "sku"),
        ({"sku": "A\tB", "name": "Tab"}, "sku"),
        ({"sku": "OK"}, "name"),
        ({"sku": "OK", "name": "N", "price": "-1"}, "price"),
        ({"sku": "OK", "name": "N", "price": "abc"}, "price"),
        ({"sku": "OK", "name": "N", "price": "1e400"}, "price"),
    ],
)
def test_a_bad_field_is_a_400_naming_it(api, body, field):
    # when
    response = api.post(URL, body, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Product.objects.exists()


def test_it_lists_products_paginated_and_filters_by_sku(api):
    # given
    ProductFactory(sku="A-1")
    ProductFactory(sku="B-2")
    # when
    everything = api.get(URL).json()
    one = api.get(URL, {"sku": "B-2"}).json()
    # then
    assert set(everything) == {"count", "next", "previous", "results"}
    assert [p["sku"] for p in everything["results"]] == ["A-1", "B-2"]
    assert one["count"] == 1
    assert one["results"][0]["sku"] == "B-2"


def test_page_size_is_honoured_and_capped_at_500(api):
    # given
    Product.objects.bulk_create(Product(sku=f"S{n:04d}", name="x") for n in range(501))
    # when
    small = api.get(URL, {"page_size": 7}).json()
    huge = api.get(URL, {"page_size": 10_000}).json()
    # then
    assert len(small["results"]) == 7
    assert small["next"] is not None
    assert huge["count"] == 501
    assert len(huge["results"]) == 500


def test_listing_products_takes_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    # given
    Product.objects.bulk_create(Product(sku=f"S{n:03d}", name="x") for n in range(60))
    # when / then: token, count, page
    with django_assert_max_num_queries(3):
        response = api.get(URL, {"page_size": 60})
    assert len(response.json()["results"]) == 60


def test_it_shows_one_product_by_sku(api):
    # given
    ProductFactory(sku="SKU/WITH-SLASH", name="Odd")
    # when
    response = api.get(reverse("product-detail", args=["SKU/WITH-SLASH"]))
    # then
    assert response.status_code == 200
    assert response.json()["name"] == "Odd"


def test_an_unknown_sku_is_a_404(api):
    # when
    response = api.get(reverse("product-detail", args=["NOPE"]))
    # then
    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]


def test_patch_changes_the_fields_given_and_not_the_sku(api):
    # given
    ProductFactory(sku="P", name="Old", barcode="1")
    # when
    response = api.patch(reverse("product-detail", args=["P"]), {"name": "New"}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["name"] == "New"
    product = Product.objects.get(sku="P")
    assert (product.name, product.barcode) == ("New", "1")


def test_patch_with_a_bad_value_is_a_400_naming_it(api):
    # given
    ProductFactory(sku="P", name="Old")
    # when
    response = api.patch(reverse("product-detail", args=["P"]), {"name": ""}, format="json")
    # then
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert Product.objects.get(sku="P").name == "Old"


@pytest.mark.parametrize("method", ["get", "post"])
def test_without_a_token_it_is_a_401(method, anonymous_api):
    # when
    response = getattr(anonymous_api, method)(URL, {"sku": "A", "name": "B"}, format="json")
    # then
    assert response.status_code == 401
    assert not Product.objects.exists()
