"""A 3PL that works with files: requests out as CSV (once), shipments back in, all or nothing."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from fulfilment.models import Fulfilment
from inventory.models import StockMovement
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_at_lyon():
    lyon, paris = warehouse("DC-LYON"), warehouse("DC-PARIS", lat=50.6, lon=3.0)
    tee, mug = product("TEE-1"), product("=MUG-1")
    stocked(tee, lyon, 10)
    stocked(mug, lyon, 10)
    stocked(product("CAP-1"), paris, 10)
    first = place([(tee, 2), (mug, 1)], at=(45.7, 4.8))
    second = place([(tee, 1)], at=(45.7, 4.8))
    place([(product("CAP-1"), 1)], at=(50.6, 3.0))
    return [first.fulfilments.get(), second.fulfilments.get()]


def export(location: str, tmp_path) -> list[dict]:
    out = tmp_path / "out.csv"
    call_command("export_fulfilments", "--location", location, "--output", str(out))
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))


def test_export_writes_the_locations_pending_requests_once(requests_at_lyon, tmp_path):
    # when
    rows = export("DC-LYON", tmp_path)
    again = export("DC-LYON", tmp_path)

    # then: a row per SKU of each request; spreadsheet formulas defused
    first, second = requests_at_lyon
    assert [(r["fulfilment"], r["sku"], r["quantity"]) for r in rows] == [
        (str(first.pk), "TEE-1", "2"),
        (str(first.pk), "'=MUG-1", "1"),
        (str(second.pk), "TEE-1", "1"),
    ]
    assert rows[0]["order"] == first.order.number and rows[0]["city"] == "Paris"
    assert again == []
    assert Fulfilment.objects.filter(exported_at__isnull=False).count() == 2
    assert Fulfilment.objects.get(location__code="DC-PARIS").exported_at is None


def test_export_of_an_unknown_location_is_an_error():
    with pytest.raises(CommandError, match="No location"):
        call_command("export_fulfilments", "--location", "NOWHERE")


def test_import_ships_every_row_of_the_file(requests_at_lyon, tmp_path):
    # given
    first, second = requests_at_lyon
    file = tmp_path / "shipments.csv"
    file.write_text(
        f"Fulfilment;Carrier;Tracking_Number\r\n{first.pk};DHL;JD1\r\n{second.pk};UPS;1Z2\r\n",
        encoding="utf-8-sig",
    )

    # when
    call_command("import_shipments", str(file))
    call_command("import_shipments", str(file))  # the same file again changes nothing

    # then
    shipped = {f.pk: (f.status, f.carrier, f.tracking_number) for f in Fulfilment.objects.all()}
    assert shipped[first.pk] == ("shipped", "DHL", "JD1")
    assert shipped[second.pk] == ("shipped", "UPS", "1Z2")
    assert StockMovement.objects.filter(kind="shipment").count() == 3


def test_a_file_with_bad_rows_ships_nothing_and_names_every_row(requests_at_lyon, tmp_path, capsys):
    # given
    first, second = requests_at_lyon
    file = tmp_path / "shipments.csv"
    file.write_text(
        "fulfilment,carrier,tracking_number\n"
        f"{first.pk},DHL,JD1\n"
        "999999,DHL,JD2\n"
        f"{second.pk},,JD3\n"
        f"{first.pk},DHL,JD4\n"
        "abc,DHL,JD5\n"
    )

    # when
    with pytest.raises(CommandError, match="4 row"):
        call_command("import_shipments", str(file))

    # then
    errors = capsys.readouterr().err
    for expected in ("Row 3:", "Row 4: carrier", "Row 5: fulfilment", "Row 6: fulfilment"):
        assert expected in errors
    assert not Fulfilment.objects.filter(status="shipped").exists()
    assert not StockMovement.objects.filter(kind="shipment").exists()


def test_import_limited_to_a_location_refuses_another_locations_rows(requests_at_lyon, tmp_path):
    # given
    paris = Fulfilment.objects.get(location__code="DC-PARIS")
    file = tmp_path / "shipments.csv"
    file.write_text(f"fulfilment,carrier,tracking_number\n{paris.pk},DHL,JD1\n")

    # when
    with pytest.raises(CommandError):
        call_command("import_shipments", str(file), "--location", "DC-LYON")

    # then
    paris.refresh_from_db()
    assert paris.status == "requested"
