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


def test_each_check_names_its_row_and_field(api):
    # given: one bad field per row, and rows good alone that disagree with each other
    text = HEADER + (
        "PO-1,Acme,DC-PARIS,2030-05-04,SHIRT,10\n"
        "PO-1,Acme,DC-PARIS,2030-05-04,SHIRT,3\n"
        "PO-2,Acme,DC-PARIS,2030-02-30,SHIRT,1\n"
        "PO-3,Acme,DC-PARIS,2030-05-04,MUG,99999999999999999999\n"
        "PO-4,,DC-PARIS,2030-05-04,MUG,1\n"
        ",Acme,DC-PARIS,2030-05-04,MUG,1\n"
        "PO-5,Acme,DC-PARIS,2030-05-04,MUG,0\n"
        "PO-6,Acme,DC\u200b-LYON,2030-05-04,MUG,1\n"
        "PO-1,Acme,DC-LYON,2030-05-04,MUG,1\n"
    )
    # when
    response = _send(api, text)
    # then
    assert response.status_code == 400
    rows = [(e["row"], e["field"]) for e in response.json()["rows"]]
    assert rows == [
        (3, "sku"),
        (4, "expected_on"),
        (5, "quantity"),
        (6, "supplier"),
        (7, "number"),
        (8, "quantity"),
        (9, "location"),
        (10, "number"),
    ]
    messages = {e["row"]: e["message"] for e in response.json()["rows"]}
    assert messages[3] == "SHIRT is on PO-1 twice."
    assert messages[10] == "PO-1 has another supplier, location or date on row 2."
    assert "invisible" in messages[9]
    assert not PurchaseOrder.objects.exists()


def test_keys_are_read_in_their_normal_form_and_missing_stock_rows_are_made(api):
    # given: a full-width SKU and spaces around the cells; no stock row of MUG at DC-LYON
    assert not StockLevel.objects.filter(product__sku="MUG", location__code="DC-LYON").exists()
    text = HEADER + " PO-9 , Acme ,DC-LYON, 2030-05-04 ,\uff2d\uff35\uff27, 6 \n\n"
    # when
    response = _send(api, text)
    # then
    assert response.status_code == 201
    assert response.json() == {"created": ["PO-9"], "existing": [], "lines": 1}
    row = StockLevel.objects.get(product__sku="MUG", location__code="DC-LYON")
    assert row.incoming == 6
    assert PurchaseOrder.objects.get(number="PO-9").supplier == "Acme"
    assert stock_drift() == []


def test_a_file_with_no_lines_is_a_400(api):
    response = _send(api, HEADER + "\n , , \n")
    assert response.status_code == 400
    assert response.json()["rows"] == [
        {"row": 2, "field": "rows", "message": "The file has no purchase-order lines."}
    ]
