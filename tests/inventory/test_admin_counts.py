"""Importing stock counts in the admin: upload, preview, confirm (django-import-export URLs)."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inventory.locks import lock_stock
from inventory.models import StockCountImport, StockLevel, StockMovement
from inventory.services.ledger import movement_apply
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/inventory/stocklevel/import/"
Kind = StockMovement.Kind


@pytest.fixture
def shop():
    a = ProductFactory(sku="A", name="Crème")
    b = ProductFactory(sku="B")
    st1 = LocationFactory(code="ST1")
    for product, quantity in ((a, 10), (b, 4)):
        with transaction.atomic():
            row = lock_stock([(product.pk, st1.pk)])[(product.pk, st1.pk)]
            movement_apply(
                stock=row,
                kind=Kind.RECEIPT,
                quantity=quantity,
                at=timezone.now() - timedelta(days=1),
            )
    return {"A": a, "B": b, "ST1": st1}


def on_hand(sku: str, code: str = "ST1") -> int:
    return StockLevel.objects.get(product__sku=sku, location__code=code).on_hand


def upload(client, data: bytes, name: str = "count.csv"):
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile(name, data), "format": "0", "resource": "0"},
    )


def confirm(client, preview):
    return client.post(
        reverse("admin:inventory_stocklevel_process_import"),
        preview.context["confirm_form"].initial,
    )


def test_import_urls_are_the_admin_ones():
    assert reverse("admin:inventory_stocklevel_import") == IMPORT_URL


def test_import_page_explains_the_file(admin_client_logged):
    response = admin_client_logged.get(IMPORT_URL)
    assert response.status_code == 200
    assert "sku,location,quantity" in response.content.decode()


def test_upload_previews_then_confirm_applies(admin_client_logged, shop, staff_user):
    # given
    data = "sku;location;quantity\r\nA;ST1;7\r\nB;ST1;4\r\n".encode("cp1252")

    # when: upload
    preview = upload(admin_client_logged, data)

    # then: a preview, nothing applied yet
    assert preview.status_code == 200
    assert preview.context["confirm_form"] is not None
    rows = [
        (c.sku, c.before, c.counted, c.later, c.after, c.difference)
        for c in preview.context["result"].changes
    ]
    assert rows == [("A", 10, 7, 0, 7, -3), ("B", 4, 4, 0, 4, 0)]
    page = preview.content.decode()
    assert "On hand before" in page and "Later movements" in page and "Difference" in page
    assert on_hand("A") == 10
    assert not StockCountImport.objects.exists()

    # when: confirm
    done = confirm(admin_client_logged, preview)

    # then
    record = StockCountImport.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("console:count-import", args=[record.pk])
    assert on_hand("A") == 7 and on_hand("B") == 4
    assert record.status == StockCountImport.Status.APPLIED
    assert (record.source, record.actor, record.applied_rows) == ("admin", staff_user, 2)
    movements = StockMovement.objects.filter(kind=Kind.COUNT)
    assert movements.count() == 2 and {m.actor for m in movements} == {staff_user}
    assert LogEntry.objects.filter(object_id=str(record.pk)).exists()
    result_page = admin_client_logged.get(done["Location"])
    assert "Applied 2 count(s); 1 balance(s) changed." in result_page.content.decode()


def test_movements_between_preview_and_confirm_are_reapplied(admin_client_logged, shop):
    # given: the preview is made (counted at upload time)
    preview = upload(admin_client_logged, b"sku,location,quantity\nA,ST1,8\n")

    # when: a unit ships while the person reads the preview, then they confirm
    row = StockLevel.objects.get(product__sku="A")
    movement_apply(stock=row, kind=Kind.SHIPMENT, quantity=-1)
    confirm(admin_client_logged, preview)

    # then: the shelf had 8 at upload; 1 left since
    assert on_hand("A") == 7
    count = StockMovement.objects.get(kind=Kind.COUNT)
    assert count.counted_at == preview.context["result"].counted_at


def test_bad_file_lists_every_bad_row_and_offers_no_confirm(admin_client_logged, shop):
    # when
    response = upload(
        admin_client_logged, b"sku,location,quantity\nA,ST1,1\nZZZ,ST1,1\nB,MARS,1\nB,ST1,x\n"
    )

    # then
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    page = response.content.decode()
    assert "nothing was applied" in page
    for expected in ("unknown sku &#x27;ZZZ&#x27;", "unknown location &#x27;MARS&#x27;"):
        assert expected in page
    assert [e["row"] for e in response.context["result"].rejected] == [3, 4, 5]
    assert on_hand("A") == 10
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()


def test_garbage_upload_is_rejected_not_crashed(admin_client_logged, shop):
    response = upload(admin_client_logged, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    assert response.status_code == 200
    assert "not readable as text" in response.content.decode()


def test_same_file_again_is_not_counted_twice(admin_client_logged, shop):
    # given
    data = b"sku,location,quantity\nA,ST1,6\n"
    confirm(admin_client_logged, upload(admin_client_logged, data))
    first = StockCountImport.objects.get()
    movement_apply(stock=StockLevel.objects.get(product__sku="A"), kind=Kind.SHIPMENT, quantity=-1)

    # when
    preview = upload(admin_client_logged, data)
    done = confirm(admin_client_logged, preview)

    # then
    assert preview.context["result"].already_applied == first
    assert "already applied" in preview.content.decode()
    assert done["Location"] == reverse("console:count-import", args=[first.pk])
    assert on_hand("A") == 5
    assert StockMovement.objects.filter(kind=Kind.COUNT).count() == 1
    assert StockCountImport.objects.count() == 1


def test_count_that_became_stale_before_confirm_is_rejected(admin_client_logged, shop):
    # given: a preview of a count made an hour ago
    hour_ago = (timezone.now() - timedelta(hours=1)).isoformat()
    preview = upload(
        admin_client_logged, f"sku,location,quantity,counted_at\nA,ST1,3,{hour_ago}\n".encode()
    )
    # ... and meanwhile a newer count is applied through the API's path
    from inventory.services.counts import stock_count_file_apply

    stock_count_file_apply(
        data=b"sku,location,quantity\nA,ST1,9\n", actor=None, source=StockCountImport.Source.API
    )

    # when
    response = confirm(admin_client_logged, preview)

    # then
    assert response.status_code == 200
    assert "stale count" in response.content.decode()
    assert on_hand("A") == 9


def test_the_preview_can_be_cancelled_and_nothing_is_applied(admin_client_logged, shop):
    # given
    preview = upload(admin_client_logged, b"sku,location,quantity\nA,ST1,7\n")
    page = preview.content.decode()
    assert 'id="count-cancel"' in page
    cancel = page.split('id="count-cancel"')[0].rsplit('href="', 1)[1].split('"')[0]
    # when
    response = admin_client_logged.get(cancel)
    # then
    assert cancel == "/admin/inventory/stocklevel/"
    assert response.status_code == 200
    assert on_hand("A") == 10
    assert not StockCountImport.objects.exists()


def test_a_row_with_two_problems_shows_both_on_one_line(admin_client_logged, shop):
    # given: row 2 lacks its sku and has a negative quantity; row 3 is fine
    data = b"sku,location,quantity\n,ST1,-4\nA,ST1,7\n"
    # when
    response = upload(admin_client_logged, data)
    # then
    page = response.content.decode()
    table = page.split('id="count-errors"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 1
    assert "sku" in rows[0] and "quantity" in rows[0] and ">2<" in rows[0]
    assert on_hand("A") == 10


def test_rows_with_two_and_three_problems_show_them_all(admin_client_logged, shop):
    # given: rows with a form problem and unknown keys, and a good row
    data = (
        b"sku,location,quantity,counted_at\n"
        b"ZZZ,ST1,x,\n"  # row 2: unknown sku + bad quantity
        b"NOPE,MARS,5,\n"  # row 3: unknown sku + unknown location
        b"QQQ,MOON,-1,\n"  # row 4: unknown sku + unknown location + negative quantity
        b"A,VENUS,2,yesterday\n"  # row 5: unknown location + bad counted_at
        b"A,ST1,7,\n"  # row 6: good
    )

    # when
    response = upload(admin_client_logged, data)

    # then: every problem of every row, on the row's one line; no way to confirm
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    found = [(e["row"], e["field"], e["message"]) for e in response.context["result"].rejected]
    assert found == [
        (2, "quantity", "quantity must be a whole number, 0 or more (got 'x')"),
        (2, "sku", "unknown sku 'ZZZ'"),
        (3, "location", "unknown location 'MARS'"),
        (3, "sku", "unknown sku 'NOPE'"),
        (4, "location", "unknown location 'MOON'"),
        (4, "quantity", "quantity must not be negative (got -1)"),
        (4, "sku", "unknown sku 'QQQ'"),
        (5, "counted_at", "counted_at 'yesterday' is not a date and time (YYYY-MM-DD HH:MM)"),
        (5, "location", "unknown location 'VENUS'"),
    ]
    page = response.content.decode()
    assert "Fix these rows" in page
    table = page.split('id="count-errors"')[1].split("</table>")[0]
    lines = table.split("<tr>")[2:]
    assert [line.split("</td>")[0].rsplit(">", 1)[1] for line in lines] == ["2", "3", "4", "5"]
    assert lines[2].count("<strong>") == 3
    for text in ("unknown sku &#x27;QQQ&#x27;", "unknown location &#x27;MOON&#x27;", "negative"):
        assert text in lines[2]
    assert on_hand("A") == 10
    assert not StockMovement.objects.filter(kind=Kind.COUNT).exists()
    assert not StockCountImport.objects.exists()
