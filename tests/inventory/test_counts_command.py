"""manage.py import_stock_counts FILE: the same count service, from a shell."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory.models import StockCountImport, StockLevel, StockMovement
from inventory.services.ledger import stock_receive
from tests.factories import LocationFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    product = ProductFactory(sku="A")
    location = LocationFactory(code="ST1")
    stock_receive(product=product, location=location, quantity=10)
    return product


def on_hand() -> int:
    return StockLevel.objects.get(product__sku="A").on_hand


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_stock_counts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_applies_a_file_and_records_it(shop, tmp_path):
    # given
    path = tmp_path / "count.csv"
    path.write_bytes("sku;location;quantity\r\nA;ST1;4\r\n".encode("utf-16"))
    clerk = UserFactory(username="clerk")

    # when
    out, _ = run(str(path), "--user", "clerk")

    # then
    assert "Applied 1 count(s)" in out
    assert on_hand() == 4
    record = StockCountImport.objects.get()
    assert (record.source, record.file_name, record.actor) == ("command", "count.csv", clerk)
    assert StockMovement.objects.get(kind="count").actor == clerk


def test_command_dry_run_writes_nothing(shop, tmp_path):
    path = tmp_path / "count.csv"
    path.write_text("sku,location,quantity\nA,ST1,4\n")
    out, _ = run(str(path), "--dry-run", "-v", "2")
    assert "row 2: A @ ST1: 10 -> 4" in out and "Nothing was written" in out
    assert on_hand() == 10 and not StockCountImport.objects.exists()


def test_command_rejects_a_bad_file_listing_every_row(shop, tmp_path):
    # given
    path = tmp_path / "count.csv"
    path.write_text("sku,location,quantity\nA,ST1,1\nB,ST1,1\nA,ST9,x\n")

    # when
    with pytest.raises(CommandError, match="2 row\\(s\\) rejected"):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_stock_counts", str(path), stdout=out, stderr=err)
        finally:
            errors = err.getvalue()

    # then
    assert "Row 3: unknown sku 'B'" in errors
    assert "Row 4: quantity must be a whole number" in errors
    assert "Row 4: unknown location 'ST9'" in errors
    assert on_hand() == 10


def test_command_twice_applies_once(shop, tmp_path):
    path = tmp_path / "count.csv"
    path.write_text("sku,location,quantity\nA,ST1,4\n")
    run(str(path))
    out, _ = run(str(path))
    assert "already applied" in out
    assert StockMovement.objects.filter(kind="count").count() == 1


def test_command_counted_at_option_reapplies_later_movements(shop, tmp_path):
    # given: counted 2 hours ago at 6; the receipt of 10 came after the count
    path = tmp_path / "count.csv"
    path.write_text("sku,location,quantity\nA,ST1,6\n")
    when = (timezone.now() - timedelta(hours=2)).isoformat()

    # when
    run(str(path), "--counted-at", when)

    # then
    assert on_hand() == 16


def test_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nope.csv"))
