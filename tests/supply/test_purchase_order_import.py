"""POST /api/v1/purchase-orders/import/: a CSV file of purchase orders, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from supply.models import PurchaseOrder, PurchaseOrderLine
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("purchase-orders-import")
HEADER = "number,supplier,location,expected_on,sku,quantity\n"


@pytest.fixture(autouse=True)
def network():
    LocationFactory(code="DC-PARIS")
    LocationFactory(code="DC-LYON")
    ProductFactory(sku="SHIRT")
    ProductFactory(sku="MUG")


def _send(api, text: str):
    upload = SimpleUploadedFile("asn.csv", text.encode(), content_type="text/csv")
    return api.post(IMPORT, {"file": upload}, format="multipart")


def test_a_file_opens_its_purchase_orders_and_counts_them_incoming(api):
    # given
    text = HEADER + (
        "PO-1,Acme,DC-PARIS,2030-05-04,SHIRT,10\n"
        "PO-1,Acme,DC-PARIS,2030-05-04,MUG,4\n"
        "PO-2,Bolt,DC-LYON,2030-05-10,SHIRT,7\n"
    )
    # when
    response = _send(api, text)
    again = _send(api, text)
    # then
    assert response.status_code == 201
    assert response.json() == {"created": ["PO-1", "PO-2"], "existing": [], "lines": 3}
    assert again.status_code == 201
    assert again.json() == {"created": [], "existing": ["PO-1", "PO-2"], "lines": 0}
    assert PurchaseOrderLine.objects.count() == 3
    incoming = dict(
        StockLevel.objects.values_list("location__code", "product__sku")
        .annotate()
        .values_list("location__code", "incoming")
        .filter(product__sku="SHIRT")
    )
    assert incoming == {"DC-PARIS": 10, "DC-LYON": 7}
    assert (
        api.get(reverse("purchase-order-detail", kwargs={"po_number": "PO-2"})).json()["supplier"]
        == "Bolt"
    )
    assert stock_drift() == []


def test_a_file_with_bad_rows_names_each_and_writes_nothing(api):
    # given
    text = HEADER + (
        "PO-1,Acme,DC-PARIS,2030-05-04,SHIRT,10\n"
        "PO-1,Acme,DC-PARIS,2030-05-04,HAT,4\n"
        "PO-2,Bolt,NOWHERE,2030-05-10,SHIRT,7\n"
        "PO-3,Bolt,DC-LYON,10/05/2030,SHIRT,7\n"
        "PO-4,Bolt,DC-LYON,2030-05-10,SHIRT,-1\n"
        "PO-1,Other,DC-PARIS,2030-05-04,MUG,1\n"
    )
    # when
    response = _send(api, text)
    # then
    assert response.status_code == 400
    body = response.json()
    assert [(e["row"], e["field"]) for e in body["rows"]] == [
        (3, "sku"),
        (4, "location"),
        (5, "expected_on"),
        (6, "quantity"),
        (7, "number"),
    ]
    assert body["errors"]["rows"][0].startswith("Row 3: No product with sku 'HAT'")
    assert not PurchaseOrder.objects.exists()
    assert not StockLevel.objects.filter(incoming__gt=0).exists()


def test_a_file_without_the_columns_or_the_file_is_a_400(api):
    assert _send(api, "number,sku\nPO-1,SHIRT\n").json()["rows"][0]["field"] == "header"
    missing = api.post(IMPORT, {}, format="multipart")
    assert missing.status_code == 400
    assert "file" in missing.json()["errors"]
