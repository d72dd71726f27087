"""Bad input is a 400 naming what is wrong, never a 500 (the serializers' limits are the
database's; control characters are refused in URLs and bodies; errors under /api/ are JSON).
"""

import pytest
from django.urls import reverse

from inventory.models import MAX_PROCESSING_DAYS, Location, Product
from tests.factories import LocationFactory, ProductFactory

LOCATION = {
    "code": "DC-NEW",
    "name": "New DC",
    "kind": "warehouse",
    "lat": 45.0,
    "lon": 4.0,
}


@pytest.mark.django_db
@pytest.mark.parametrize("days", [MAX_PROCESSING_DAYS + 1, 200, 284, 365])
def test_processing_days_past_the_database_limit_is_a_400_naming_it(api, days):
    # when
    response = api.post("/api/v1/locations/", {**LOCATION, "processing_days": days}, format="json")

    # then: refused by the serializer with the database's own limit, nothing created
    assert response.status_code == 400
    assert "processing_days" in response.json()["errors"]
    assert not Location.objects.filter(code="DC-NEW").exists()


@pytest.mark.django_db
def test_processing_days_at_the_limit_is_taken(api):
    response = api.post(
        "/api/v1/locations/",
        {**LOCATION, "processing_days": MAX_PROCESSING_DAYS, "cutoff_time": "09:30"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["processing_days"] == MAX_PROCESSING_DAYS
    assert response.json()["cutoff_time"] == "09:30"


@pytest.mark.django_db
def test_a_location_patch_past_the_limit_is_a_400_and_changes_nothing(api):
    location = LocationFactory(code="DC-A", processing_days=2)
    response = api.patch(
        "/api/v1/locations/DC-A/", {"processing_days": 200, "name": "Renamed"}, format="json"
    )
    assert response.status_code == 400
    location.refresh_from_db()
    assert (location.processing_days, location.name) != (200, "Renamed")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/?sku=%00",
        "/api/v1/stock/?location=%00",
        "/api/v1/fulfilments/?location=%00",
        "/api/v1/orders/?email=a%00b",
        "/api/v1/alerts/?sku=%01",
    ],
)
def test_a_control_character_in_an_api_query_is_a_json_400_naming_the_parameter(api, path):
    response = api.get(path)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    [name] = response.json()["errors"]
    assert name == path.split("?")[1].split("=")[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/console/queues/to-accept/?q=%00",
        "/console/queues/to-accept/?location=%00",
        "/console/orders/?q=%00",
        "/admin/inventory/product/?q=%00",
    ],
)
def test_a_control_character_in_a_console_query_is_a_400_not_a_500(admin_client_logged, path):
    response = admin_client_logged.get(path)
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_control_character_in_a_path_is_a_404(api, admin_client_logged):
    assert api.get("/api/v1/products/A%00B/").status_code == 404
    assert admin_client_logged.get("/console/products/A%00B/stock/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"sku": "A\x00B", "name": "x"}, "sku"),
        ({"sku": "AB", "name": "nul\x00in name"}, "name"),
        ({"sku": "AB", "name": "bell\x07"}, "name"),
        ({"sku": "AB", "name": "ok", "barcode": "\x1b[31m"}, "barcode"),
    ],
)
def test_a_control_character_in_a_body_is_a_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/products/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_a_control_character_deep_in_an_order_names_the_line(api):
    ProductFactory(sku="TEE")
    body = {
        "channel": "web",
        "customer": {"email": "a@example.com", "name": "Ada\x00"},
        "currency": "EUR",
        "shipping_address": {"line1": "1 rue", "city": "Paris", "country": "FR"},
        "lines": [{"sku": "TEE", "quantity": 1}],
    }
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400
    assert "customer.name" in response.json()["errors"]


@pytest.mark.django_db
def test_free_text_keeps_tabs_and_line_breaks(api):
    response = api.post(
        "/api/v1/products/", {"sku": "AB", "name": "two\nlines\tand a tab"}, format="json"
    )
    assert response.status_code == 201
    assert Product.objects.get().name == "two\nlines\tand a tab"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("null", "application/json"),
        ("<xml/>", "application/xml"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
    ],
)
def test_a_body_the_api_cannot_read_is_answered_in_json(api, body, content_type):
    response = api.generic("POST", reverse("stock-counts"), body, content_type=content_type)
    assert response.status_code in (400, 415)
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_form_body_django_refuses_is_a_json_400_under_the_api(api, settings):
    # given: a form with more fields than Django reads
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{n}=1" for n in range(10))
    # when
    response = api.generic(
        "POST", "/api/v1/products/", body, content_type="application/x-www-form-urlencoded"
    )
    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
