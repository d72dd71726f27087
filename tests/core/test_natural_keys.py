"""SKUs and codes have one form: NFKC, trimmed, nothing invisible, unique ignoring case.

Look-alike keys (a composed and a decomposed accent, full-width letters, a zero-width space,
a right-to-left override, another case) cannot become separate products or locations, and
every entry point (API, CSV counts, admin, URLs) reads a key the same way.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from core.text import TextRefused, code_normalise
from inventory.models import Location, Product, StockLevel
from tests.factories import LocationFactory, ProductFactory


@pytest.mark.parametrize(
    "given, kept",
    [
        ("  AP-10001 ", "AP-10001"),
        ("CAF\u0045\u0301", "CAF\u00c9"),  # E + combining acute -> É
        ("\uff21\uff30-\uff11\uff10\uff10\uff10\uff11", "AP-10001"),  # full-width
        ("AP\u00a010001", "AP 10001"),  # no-break space
    ],
)
def test_a_key_is_kept_in_its_normal_form(given, kept):
    assert code_normalise(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "AP\u200b10001",  # zero-width space
        "AP\u202e10001",  # right-to-left override
        "AP\u200d10001",  # zero-width joiner
        "\ufeffAP-10001",  # byte-order mark
        "AP\x0010001",  # NUL
        "AP\u206610001",  # left-to-right isolate
        "AP\ufe0f10001",  # variation selector
        "AP\u3164",  # Hangul filler
        "\u00a0 ",  # nothing but space
    ],
)
def test_a_key_with_an_invisible_character_is_refused(given):
    with pytest.raises(TextRefused):
        code_normalise(given)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "look_alike",
    [
        "ap-10001",
        "\uff21\uff30-\uff11\uff10\uff10\uff10\uff11",
        " AP-10001",
    ],
)
def test_a_look_alike_sku_is_not_a_second_product(api, look_alike):
    # given
    ProductFactory(sku="AP-10001")
    # when
    response = api.post("/api/v1/products/", {"sku": look_alike, "name": "x"}, format="json")
    # then
    assert response.status_code == 400
    assert "AP-10001" in response.json()["errors"]["sku"][0]
    assert Product.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("sku", ["AP\u200b1", "AP\u202e1", "AP\u20621", "A\x7fB"])
def test_an_invisible_character_in_a_sku_is_a_400_naming_the_field(api, sku):
    response = api.post("/api/v1/products/", {"sku": sku, "name": "x"}, format="json")
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_decomposed_accents_make_the_same_product(api):
    # given: é written as one code point
    created = api.post("/api/v1/products/", {"sku": "CAF\u00c9", "name": "x"}, format="json")
    assert created.status_code == 201
    # when: the same SKU, written as e + combining accent, is created or looked up
    again = api.post("/api/v1/products/", {"sku": "CAFE\u0301", "name": "x"}, format="json")
    found = api.get("/api/v1/products/", {"sku": "CAFE\u0301"})
    shown = api.get("/api/v1/products/CAFE%CC%81/")
    # then
    assert again.status_code == 400
    assert [p["sku"] for p in found.json()["results"]] == ["CAF\u00c9"]
    assert shown.status_code == 200
    assert Product.objects.count() == 1


@pytest.mark.django_db
def test_location_codes_are_unique_ignoring_case(api):
    LocationFactory(code="DC-LYON")
    response = api.post(
        "/api/v1/locations/",
        {"code": "dc-lyon", "name": "x", "kind": "warehouse", "lat": 45, "lon": 4},
        format="json",
    )
    assert response.status_code == 400
    assert "code" in response.json()["errors"]
    assert Location.objects.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_keys_differing_only_in_case():
    ProductFactory(sku="AP-10001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="ap-10001", name="x")


@pytest.mark.django_db
def test_a_movement_names_a_product_by_its_sku_in_any_form(api):
    # given
    ProductFactory(sku="AP-10001")
    LocationFactory(code="DC-1")
    # when: full-width and padded forms of the same keys
    response = api.post(
        "/api/v1/stock/movements/",
        {
            "sku": "\uff21\uff30-10001",
            "location": " DC-1 ",
            "kind": "receipt",
            "quantity": 3,
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    assert response.json()["sku"] == "AP-10001"
    assert StockLevel.objects.get().on_hand == 3


@pytest.mark.django_db
def test_a_count_file_reads_keys_in_their_normal_form_and_names_invisible_ones(api):
    # given
    ProductFactory(sku="AP-10001")
    LocationFactory(code="DC-1")
    data = (
        "sku,location,quantity\n"
        "\uff21\uff30-10001,DC-1,4\n"  # full-width: the same product
        "AP\u200b2,DC-1,1\n"  # zero-width space: refused
    ).encode()
    # when
    response = api.post(
        "/api/v1/stock/counts/", {"file": SimpleUploadedFile("c.csv", data)}, format="multipart"
    )
    # then: the bad row is named, nothing applied
    assert response.status_code == 400
    rows = response.json()["rows"]
    assert [(r["row"], r["field"]) for r in rows] == [(3, "sku")]
    assert "invisible" in rows[0]["message"]
    assert not StockLevel.objects.exists()


@pytest.mark.django_db
def test_the_admin_keeps_a_new_sku_in_its_normal_form_and_refuses_a_look_alike(
    admin_client_logged,
):
    # given
    ProductFactory(sku="AP-10001")
    add = "/admin/inventory/product/add/"
    form = {"name": "x", "barcode": "", "price": "", "active": "on", "preorder_cap": "0"}
    # when
    normalised = admin_client_logged.post(add, {**form, "sku": "\uff22\uff22-1"})
    look_alike = admin_client_logged.post(add, {**form, "sku": "ap-10001"})
    invisible = admin_client_logged.post(add, {**form, "sku": "CC\u200b1"})
    # then
    assert normalised.status_code == 302
    assert Product.objects.filter(sku="BB-1").exists()
    assert look_alike.status_code == 200 and b"already exists" in look_alike.content
    assert invisible.status_code == 200 and b"invisible" in invisible.content
    assert Product.objects.count() == 2


@pytest.mark.django_db
def test_model_validation_normalises_and_refuses(db):
    product = Product(sku=" \uff21-1 ", name="x")
    product.full_clean()
    assert product.sku == "A-1"
    with pytest.raises(ValidationError):
        Product(sku="A\u200b1", name="x").full_clean()
