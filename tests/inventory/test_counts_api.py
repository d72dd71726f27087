"""POST /api/v1/stock/counts/: JSON lines or a CSV file; 201, 200 for a repeat, 400 for bad rows."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inventory.locks import lock_stock
from inventory.models import StockCountImport, StockLevel, StockMovement
from inventory.services.ledger import movement_apply
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/counts/"


@pytest.fixture
def shop():
    a = ProductFactory(sku="A")
    b = ProductFactory(sku="B")
    st1 = LocationFactory(code="ST1")
    receive(a, st1, 10, at=timezone.now() - timedelta(days=1))
    receive(b, st1, 4, at=timezone.now() - timedelta(days=1))
    return {"A": a, "B": b, "ST1": st1}


def receive(product, location, quantity: int, *, at):
    """Receive units at a given time (stock_receive records them now)."""
    with transaction.atomic():
        row = lock_stock([(product.pk, location.pk)])[(product.pk, location.pk)]
        movement_apply(stock=row, kind=StockMovement.Kind.RECEIPT, quantity=quantity, at=at)


def on_hand(sku: str, code: str = "ST1") -> int:
    return StockLevel.objects.get(product__sku=sku, location__code=code).on_hand


def count_movements() -> int:
    return StockMovement.objects.filter(kind=StockMovement.Kind.COUNT).count()


def upload(api, data: bytes, name: str = "count.csv"):
    return api.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_the_url_is_the_contract():
    assert reverse("stock-counts") == URL


# --- JSON --------------------------------------------------------------------------------


def test_json_count_applies_and_answers_201_with_the_changes(api, shop, user):
    # when
    response = api.post(
        URL,
        {"location": "ST1", "lines": [{"sku": "A", "quantity": 7}, {"sku": "B", "quantity": 4}]},
        format="json",
    )

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["applied"] == 2
    assert body["already_applied"] is False
    assert [
        {k: c[k] for k in ("sku", "location", "before", "counted", "after", "difference")}
        for c in body["changes"]
    ] == [
        {"sku": "A", "location": "ST1", "before": 10, "counted": 7, "after": 7, "difference": -3},
        {"sku": "B", "location": "ST1", "before": 4, "counted": 4, "after": 4, "difference": 0},
    ]
    assert (on_hand("A"), on_hand("B")) == (7, 4)
    movements = StockMovement.objects.filter(kind=StockMovement.Kind.COUNT)
    assert {m.actor_id for m in movements} == {user.pk}
    assert {m.quantity for m in movements} == {-3, 0}


def test_json_count_reapplies_movements_after_counted_at(api, shop):
    # given: counted an hour ago; 2 shipped since
    counted_at = timezone.now() - timedelta(hours=1)
    row = StockLevel.objects.get(product__sku="A")
    movement_apply(stock=row, kind=StockMovement.Kind.SHIPMENT, quantity=-2)

    # when: the shelf had 9 back then
    response = api.post(
        URL,
        {
            "location": "ST1",
            "counted_at": counted_at.isoformat(),
            "lines": [{"sku": "A", "quantity": 9}],
        },
        format="json",
    )

    # then
    assert response.status_code == 201, response.json()
    change = response.json()["changes"][0]
    assert (change["before"], change["counted"], change["later"], change["after"]) == (8, 9, -2, 7)
    assert on_hand("A") == 7


def test_json_bad_lines_answer_400_with_every_row_and_apply_nothing(api, shop):
    # given
    ProductFactory(sku="C")
    ProductFactory(sku="D")

    # when
    response = api.post(
        URL,
        {
            "location": "ST1",
            "lines": [
                {"sku": "A", "quantity": 1},
                {"sku": "NOPE", "quantity": 1},
                {"sku": "B", "quantity": -1},
                {"sku": "C", "quantity": "2"},
                {"quantity": 3},
                {"sku": "A", "quantity": 2},
                "A,3",
                {"sku": "D", "quantity": True},
            ],
        },
        format="json",
    )

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["lines"] == [
        "lines[1]: unknown sku 'NOPE'",
        "lines[2]: quantity must not be negative (-1)",
        "lines[3]: quantity must be a whole number, 0 or more (2)",
        "lines[4]: sku is missing",
        "lines[5]: sku 'A' is already counted in lines[0]",
        'lines[6]: a line must be an object {"sku", "quantity"}',
        "lines[7]: quantity must be a whole number, 0 or more (True)",
    ]
    assert body["rows"][0] == {"row": 1, "field": "sku", "message": "unknown sku 'NOPE'"}
    assert [row["row"] for row in body["rows"]] == [1, 2, 3, 4, 5, 6, 7]
    assert on_hand("A") == 10 and count_movements() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"lines": [{"sku": "A", "quantity": 1}]}, "location"),
        ({"location": "MOON", "lines": [{"sku": "A", "quantity": 1}]}, "location"),
        ({"location": "ST1"}, "lines"),
        ({"location": "ST1", "lines": []}, "lines"),
        ({"location": "ST1", "lines": "A,1"}, "lines"),
        ({"location": 5, "lines": {"sku": "A"}}, "lines"),
        (
            {"location": "ST1", "counted_at": "soon", "lines": [{"sku": "A", "quantity": 1}]},
            "counted_at",
        ),
        ([{"sku": "A", "quantity": 1}], "non_field_errors"),
    ],
)
def test_json_of_the_wrong_shape_answers_400(api, shop, payload, field):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert count_movements() == 0


def test_malformed_json_answers_400(api, shop):
    response = api.post(URL, b'{"location": "ST1", "lines": [', content_type="application/json")
    assert response.status_code == 400
    assert count_movements() == 0


def test_anonymous_is_refused(anonymous_api, shop):
    response = anonymous_api.post(
        URL, {"location": "ST1", "lines": [{"sku": "A", "quantity": 1}]}, format="json"
    )
    assert response.status_code in (401, 403)
    assert on_hand("A") == 10


# --- Files -------------------------------------------------------------------------------


def test_file_count_applies_and_answers_201(api, shop):
    # when
    response = upload(api, "sku;location;quantity\r\nA;ST1;6\r\n".encode("utf-16"))

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["applied"] == 1 and body["changes"][0]["difference"] == -4
    assert on_hand("A") == 6
    record = StockCountImport.objects.get(pk=body["count_import"])
    assert record.source == StockCountImport.Source.API
    assert record.file_name == "count.csv"


def test_same_file_again_answers_200_with_the_first_result(api, shop):
    # given
    data = b"sku,location,quantity\nA,ST1,6\n"
    first = upload(api, data).json()
    movement_apply(
        stock=StockLevel.objects.get(product__sku="A"),
        kind=StockMovement.Kind.SHIPMENT,
        quantity=-1,
    )

    # when
    response = upload(api, data, name="again.csv")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["already_applied"] is True
    assert body["count_import"] == first["count_import"]
    assert body["changes"] == first["changes"]
    assert on_hand("A") == 5 and count_movements() == 1


def test_bad_file_answers_400_with_row_numbers_of_the_file(api, shop):
    # when
    response = upload(api, b"sku,location,quantity\nA,ST1,3\nX,ST1,1\nB,ST1,-1\n")

    # then
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "file": ["Row 3: unknown sku 'X'", "Row 4: quantity must not be negative (got -1)"]
    }
    assert response.json()["rows"] == [
        {"row": 3, "field": "sku", "message": "unknown sku 'X'"},
        {"row": 4, "field": "quantity", "message": "quantity must not be negative (got -1)"},
    ]
    assert on_hand("A") == 10 and count_movements() == 0
    assert StockCountImport.objects.get().status == StockCountImport.Status.REJECTED


def test_file_rows_with_several_problems_answer_400_with_them_all(api, shop):
    # when
    response = upload(
        api,
        b"sku,location,quantity\nA,ST1,3\nX,ST1,x\nY,MOON,1\nZ,MARS,-1\n",
    )

    # then
    assert response.status_code == 400
    assert response.json()["rows"] == [
        {
            "row": 3,
            "field": "quantity",
            "message": "quantity must be a whole number, 0 or more (got 'x')",
        },
        {"row": 3, "field": "sku", "message": "unknown sku 'X'"},
        {"row": 4, "field": "location", "message": "unknown location 'MOON'"},
        {"row": 4, "field": "sku", "message": "unknown sku 'Y'"},
        {"row": 5, "field": "location", "message": "unknown location 'MARS'"},
        {"row": 5, "field": "quantity", "message": "quantity must not be negative (got -1)"},
        {"row": 5, "field": "sku", "message": "unknown sku 'Z'"},
    ]
    assert response.json()["errors"]["file"][:2] == [
        "Row 3: quantity must be a whole number, 0 or more (got 'x')",
        "Row 3: unknown sku 'X'",
    ]
    assert on_hand("A") == 10 and count_movements() == 0
    assert StockCountImport.objects.get().status == StockCountImport.Status.REJECTED


def test_json_lines_with_several_problems_answer_400_with_them_all(api, shop):
    # when
    response = api.post(
        URL,
        {
            "location": "ST1",
            "lines": [
                {"sku": "A", "quantity": 1},
                {"sku": "NOPE", "quantity": -1},
                {"sku": "GONE", "quantity": "2"},
                {"sku": "NOPE", "quantity": 3},
            ],
        },
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["errors"]["lines"] == [
        "lines[1]: quantity must not be negative (-1)",
        "lines[1]: unknown sku 'NOPE'",
        "lines[2]: quantity must be a whole number, 0 or more (2)",
        "lines[2]: unknown sku 'GONE'",
        "lines[3]: sku 'NOPE' is already counted in lines[1]",
        "lines[3]: unknown sku 'NOPE'",
    ]
    assert on_hand("A") == 10 and count_movements() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Row 1: the file is empty"),
        (b"sku,location,quantity\n", "Row 1: the file has a header but no count rows"),
        (b"\x00\xff\xfe\x00garbage\x00\x01\x02", "Row 1: The file is not readable as text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "Row 1: The file is not readable"),
        (b"name,qty\nA,1\n", "Row 1: missing column 'sku'"),
    ],
)
def test_unreadable_files_answer_400_never_500(api, shop, data, message):
    response = upload(api, data)
    assert response.status_code == 400
    assert any(text.startswith(message) for text in response.json()["errors"]["file"])
    assert count_movements() == 0


def test_file_field_that_is_not_a_file_answers_400(api, shop):
    response = api.post(URL, {"file": "sku,location,quantity"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
