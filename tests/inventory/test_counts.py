"""The stock count service and the parsing of count files as spreadsheets write them."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.countfile import parse_count_file
from inventory.exceptions import CountRejected
from inventory.locks import lock_stock
from inventory.models import StockCountImport, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services.counts import (
    stock_count_file_apply,
    stock_count_file_preview,
)
from inventory.services.ledger import movement_apply
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

ADMIN = StockCountImport.Source.ADMIN
Kind = StockMovement.Kind


@pytest.fixture
def shop():
    """Two products at two stores; 10 units of A at ST1, 4 of B at ST1, none at ST2."""
    a = ProductFactory(sku="A", name="Crème brûlée")
    b = ProductFactory(sku="B", name="Baguette")
    st1 = LocationFactory(code="ST1", time_zone="Europe/Paris")
    st2 = LocationFactory(code="ST2", time_zone="Europe/Paris")
    receive(a, st1, 10, at=timezone.now() - timedelta(days=1))
    receive(b, st1, 4, at=timezone.now() - timedelta(days=1))
    return {"A": a, "B": b, "ST1": st1, "ST2": st2}


def receive(product, location, quantity: int, *, at):
    """Receive units at a given time (stock_receive records them now)."""
    with transaction.atomic():
        row = lock_stock([(product.pk, location.pk)])[(product.pk, location.pk)]
        movement_apply(stock=row, kind=Kind.RECEIPT, quantity=quantity, at=at)


def stock(sku: str, code: str) -> StockLevel:
    return StockLevel.objects.get(product__sku=sku, location__code=code)


def ledger_total(row: StockLevel) -> int:
    return row.movements.aggregate(total=Sum("quantity"))["total"] or 0


def apply(text: str, **kwargs):
    return stock_count_file_apply(data=text.encode(), actor=None, source=ADMIN, **kwargs)


def rejected(text: str, **kwargs) -> list[dict]:
    with pytest.raises(CountRejected) as caught:
        apply(text, **kwargs)
    return caught.value.row_errors


# --- Applying -----------------------------------------------------------------------------


def test_count_sets_on_hand_and_writes_one_count_movement_per_row(shop):
    # given
    text = "sku,location,quantity\nA,ST1,7\nB,ST1,4\n"

    # when
    outcome = apply(text)

    # then
    assert [(c.sku, c.before, c.counted, c.after, c.difference) for c in outcome.changes] == [
        ("A", 10, 7, 7, -3),
        ("B", 4, 4, 4, 0),
    ]
    a, b = stock("A", "ST1"), stock("B", "ST1")
    assert (a.on_hand, b.on_hand) == (7, 4)
    counts = StockMovement.objects.filter(kind=Kind.COUNT).order_by("stock_id")
    assert [(m.stock_id, m.quantity, m.on_hand_after) for m in counts] == [
        (a.pk, -3, 7),
        (b.pk, 0, 4),
    ]
    assert all(m.counted_at == outcome.counted_at for m in counts)
    assert len({m.operation for m in counts}) == 1
    assert stock_drift() == []
    record = outcome.count_import
    assert record.status == StockCountImport.Status.APPLIED
    assert record.applied_rows == 2 and record.total_rows == 2
    assert counts[0].operation == record.operation


def test_count_creates_the_stock_row_of_a_product_never_stocked_there(shop):
    # given
    assert not StockLevel.objects.filter(product__sku="A", location__code="ST2").exists()

    # when
    outcome = apply("sku,location,quantity\nA,ST2,5\n")

    # then
    assert outcome.changes[0].before == 0 and outcome.changes[0].after == 5
    row = stock("A", "ST2")
    assert row.on_hand == 5 and ledger_total(row) == 5


def test_late_upload_reapplies_movements_recorded_after_counted_at(shop):
    # given: the shelf held 10 at 09:00; a sale of 3 shipped at 10:00; the file comes at 11:00
    counted_at = timezone.now() - timedelta(hours=2)
    row = stock("A", "ST1")
    movement_apply(stock=row, kind=Kind.SHIPMENT, quantity=-3, at=counted_at + timedelta(hours=1))
    # ... and a receipt recorded before the count, which the count already saw
    movement_apply(stock=row, kind=Kind.RECEIPT, quantity=2, at=counted_at - timedelta(hours=1))
    row.refresh_from_db()
    assert row.on_hand == 9

    # when: the count says 10 at 09:00
    outcome = apply(f"sku,location,quantity,counted_at\nA,ST1,10,{counted_at.isoformat()}\n")

    # then: the sold units stay sold
    change = outcome.changes[0]
    assert (change.before, change.counted, change.later, change.after) == (9, 10, -3, 7)
    row.refresh_from_db()
    assert row.on_hand == 7 and ledger_total(row) == 7
    movement = StockMovement.objects.get(kind=Kind.COUNT)
    assert movement.quantity == -2 and movement.counted_at == counted_at


def test_stale_count_is_rejected(shop):
    # given: a count made at 10:00 is applied
    ten = timezone.now() - timedelta(hours=1)
    apply(f"sku,location,quantity,counted_at\nA,ST1,8,{ten.isoformat()}\n")

    # when: a count made at 09:00 arrives afterwards
    errors = rejected(
        "sku,location,quantity,counted_at\n"
        f"A,ST1,3,{(ten - timedelta(hours=1)).isoformat()}\nB,ST1,1,\n"
    )

    # then
    assert [(e["row"], e["field"]) for e in errors] == [(2, "counted_at")]
    assert "stale" in errors[0]["message"]
    assert stock("A", "ST1").on_hand == 8
    assert stock("B", "ST1").on_hand == 4


def test_count_that_later_movements_would_take_below_zero_is_rejected(shop):
    # given: 5 units shipped after the shelf was counted
    counted_at = timezone.now() - timedelta(hours=1)
    movement_apply(stock=stock("A", "ST1"), kind=Kind.SHIPMENT, quantity=-5)

    # when
    errors = rejected(f"sku,location,quantity,counted_at\nA,ST1,2,{counted_at.isoformat()}\n")

    # then
    assert errors == [
        {
            "row": 2,
            "field": "quantity",
            "message": "counted 2, but 5 unit(s) left after it was counted: on hand would be -3",
        }
    ]
    assert stock("A", "ST1").on_hand == 5


def test_same_file_twice_answers_with_the_first_result(shop):
    # given
    text = "sku,location,quantity\nA,ST1,7\n"
    first = apply(text)
    movement_apply(stock=stock("A", "ST1"), kind=Kind.SHIPMENT, quantity=-2)

    # when: the same bytes again, after a sale
    again = apply(text)

    # then: nothing counted again, the sale is not undone
    assert again.already_applied is True
    assert again.count_import.pk == first.count_import.pk
    assert again.changes == first.changes
    assert stock("A", "ST1").on_hand == 5
    assert StockMovement.objects.filter(kind=Kind.COUNT).count() == 1
    assert StockCountImport.objects.count() == 1


def test_reapplying_a_count_with_the_same_counted_at_changes_nothing(shop):
    # given: a count at 09:00, then a sale
    counted_at = (timezone.now() - timedelta(hours=1)).isoformat()
    apply(f"sku,location,quantity,counted_at\nA,ST1,6,{counted_at}\n")
    movement_apply(stock=stock("A", "ST1"), kind=Kind.SHIPMENT, quantity=-1)

    # when: the same count in a file that differs (another row added)
    outcome = apply(f"sku,location,quantity,counted_at\nA,ST1,6,{counted_at}\nB,ST1,4,\n")

    # then
    assert outcome.already_applied is False
    assert outcome.changes[0].difference == 0
    assert stock("A", "ST1").on_hand == 5
    assert stock_drift() == []


def test_bad_file_applies_nothing_and_lists_every_bad_row(shop):
    # given
    LocationFactory(code="ST3")
    text = (
        "sku,location,quantity,counted_at\n"
        "A,ST1,1,\n"  # good
        "NOPE,ST1,1,\n"  # unknown sku
        "B,MOON,1,\n"  # unknown location
        "B,ST1,-2,\n"  # negative
        "B,ST2,2.5,\n"  # not an integer
        "A,ST1,3,\n"  # duplicate pair
        "A,ST2,1,yesterday\n"  # bad counted_at
        "B,ST3,,\n"  # missing quantity
    )

    # when
    errors = rejected(text)

    # then
    assert [(e["row"], e["field"]) for e in errors] == [
        (3, "sku"),
        (4, "location"),
        (5, "quantity"),
        (6, "quantity"),
        (7, "sku"),
        (8, "counted_at"),
        (9, "quantity"),
    ]
    messages = [e["message"] for e in errors]
    assert messages[0] == "unknown sku 'NOPE'"
    assert messages[1] == "unknown location 'MOON'"
    assert "negative" in messages[2]
    assert "whole number" in messages[3]
    assert messages[4] == "sku 'A' at location 'ST1' is already counted on row 2"
    assert "not a date and time" in messages[5]
    assert stock("A", "ST1").on_hand == 10
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()
    record = StockCountImport.objects.get()
    assert record.status == StockCountImport.Status.REJECTED and len(record.errors) == 7


def test_every_problem_of_a_row_is_listed(shop):
    # given: rows whose form is wrong AND whose keys are unknown
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    text = (
        "sku,location,quantity,counted_at\n"
        "A,ST1,1,\n"  # good
        "NOPE,ST1,x,\n"  # unknown sku + bad quantity
        "NOPE,MOON,1,\n"  # unknown sku + unknown location
        "GONE,MARS,-1,yesterday\n"  # unknown sku + unknown location + negative + bad date
        f"B,VENUS,1,{tomorrow}\n"  # unknown location + in the future
        f"NIL,ST1,1,{tomorrow}\n"  # unknown sku + in the future
    )

    # when
    errors = rejected(text)

    # then
    assert [(e["row"], e["field"]) for e in errors] == [
        (3, "quantity"),
        (3, "sku"),
        (4, "location"),
        (4, "sku"),
        (5, "counted_at"),
        (5, "location"),
        (5, "quantity"),
        (5, "sku"),
        (6, "counted_at"),
        (6, "location"),
        (7, "counted_at"),
        (7, "sku"),
    ]
    assert {e["message"] for e in errors if e["field"] == "sku"} == {
        "unknown sku 'NOPE'",
        "unknown sku 'GONE'",
        "unknown sku 'NIL'",
    }
    assert stock("A", "ST1").on_hand == 10
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()


def test_the_keys_of_bad_rows_are_looked_up_in_a_few_queries(shop):
    # given: files of 3 and of 600 rows, each with a bad quantity, sku and location
    def bad_file(rows: int) -> bytes:
        body = "".join(f"X{n},NOWHERE{n % 7},-{n}\n" for n in range(rows))
        return ("sku,location,quantity\n" + body).encode()

    # when
    queries = []
    for rows in (3, 600):
        with CaptureQueriesContext(connection) as captured, pytest.raises(CountRejected) as caught:
            stock_count_file_preview(data=bad_file(rows))
        queries.append(len(captured))
        assert len(caught.value.row_errors) == 3 * rows

    # then: no query per row
    assert queries[0] == queries[1]


def test_missing_column_rejects_the_file(shop):
    errors = rejected("sku,location\nA,ST1\n")
    assert errors == [
        {
            "row": 1,
            "field": "quantity",
            "message": "missing column 'quantity' (expected sku,location,quantity)",
        }
    ]


def test_future_counted_at_is_rejected(shop):
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    errors = rejected(f"sku,location,quantity,counted_at\nA,ST1,1,{tomorrow}\n")
    assert errors[0]["field"] == "counted_at" and "future" in errors[0]["message"]


def test_naive_counted_at_is_the_location_local_time(shop):
    # given: 2 hours ago, written as Paris wall-clock time without an offset
    moment = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    local = moment.astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None)

    # when
    apply(f"sku,location,quantity,counted_at\nA,ST1,4,{local:%Y-%m-%d %H:%M:%S}\n")

    # then
    assert StockMovement.objects.get(kind=Kind.COUNT).counted_at == moment


def test_preview_shows_the_changes_and_writes_nothing(shop):
    # given
    text = b"sku,location,quantity\nA,ST1,12\nA,ST2,1\n"

    # when
    preview = stock_count_file_preview(data=text)

    # then
    assert [(c.sku, c.location, c.before, c.after, c.difference) for c in preview.changes] == [
        ("A", "ST1", 10, 12, 2),
        ("A", "ST2", 0, 1, 1),
    ]
    assert preview.already_applied is None
    assert stock("A", "ST1").on_hand == 10
    assert not StockLevel.objects.filter(location__code="ST2").exists()
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()
    assert not StockCountImport.objects.exists()


def test_preview_of_an_applied_file_says_so(shop):
    apply("sku,location,quantity\nA,ST1,12\n")
    preview = stock_count_file_preview(data=b"sku,location,quantity\nA,ST1,12\n")
    assert preview.already_applied is not None
    assert preview.changes[0].after == 12


# --- Reading files as spreadsheets write them ---------------------------------------------

CREME = "Crème"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"sku,location,quantity\nA,ST1,3\n", id="utf-8"),
        pytest.param("sku,location,quantity\nA,ST1,3\n".encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param("sku,location,quantity\r\nA,ST1,3\r\n".encode("utf-16"), id="utf-16"),
        pytest.param(
            "\ufeffsku,location,quantity\r\nA,ST1,3\r\n".encode("utf-16-be"), id="utf-16-be"
        ),
        pytest.param(b"sku;location;quantity\nA;ST1;3\n", id="semicolon"),
        pytest.param(b"sku,location,quantity\r\nA,ST1,3\r\n", id="crlf"),
        pytest.param(b" SKU , Location ,QUANTITY \r\n  A ,  ST1 , 3 \r\n\r\n", id="spaces-case"),
        pytest.param(b'"sku","location","quantity"\n"A","ST1","3"\n,,\n', id="quoted"),
    ],
)
def test_count_file_is_read_whatever_the_spreadsheet_wrote(shop, data):
    # when
    stock_count_file_apply(data=data, actor=None, source=ADMIN)

    # then
    assert stock("A", "ST1").on_hand == 3


def test_cp1252_file_with_accents_is_read(shop):
    # given: Excel on Windows, with a product name column next to the count
    shop["A"].sku = "CRÈME-1"
    shop["A"].save(update_fields=["sku"])
    data = "sku;name;location;quantity\r\nCRÈME-1;Crème brûlée;ST1;6\r\n".encode("cp1252")

    # when
    stock_count_file_apply(data=data, actor=None, source=ADMIN)

    # then
    assert stock("CRÈME-1", "ST1").on_hand == 6


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"   \r\n", "the file is empty"),
        (b"sku,location,quantity\r\n", "the file has a header but no count rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not readable as text"),
        (bytes(range(256)) * 4, "not readable as text"),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(data, message):
    parsed = parse_count_file(data)
    assert parsed.lines == []
    assert parsed.errors[0].row == 1
    assert message in parsed.errors[0].message


def test_row_numbers_are_file_lines_counting_the_header_as_one():
    parsed = parse_count_file(b"sku,location,quantity\n\nA,ST1,x\nB,ST1,1\n")
    assert [(e.row, e.field) for e in parsed.errors] == [(3, "quantity")]
    assert [line.row for line in parsed.lines] == [4]
