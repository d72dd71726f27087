"""Exports of products, stock and the ledger, as CSV and XLSX, never carry a live formula."""

import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from inventory.resources import (
    CSV,
    XLSX,
    ProductResource,
    StockLevelResource,
    StockMovementResource,
    escape_formula,
)
from inventory.services.ledger import stock_adjust, stock_receive
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

DANGEROUS = [
    '=HYPERLINK("http://evil")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


@pytest.fixture
def evil():
    product = ProductFactory(sku="EVIL-1", name='=HYPERLINK("http://evil","click")')
    location = LocationFactory(code="WH1")
    stock_receive(product=product, location=location, quantity=4, reference="@SUM(A1)")
    stock_adjust(product=product, location=location, quantity=-1, reason="-2+3")
    return product


@pytest.mark.parametrize("value", DANGEROUS)
def test_escape_formula_prefixes_every_formula_trigger(value):
    assert escape_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["-3", "+4", "12", "1.5", "Crème", "", None, 7, -3])
def test_escape_formula_leaves_numbers_and_text_alone(value):
    assert escape_formula(value) == value


def export(client, model: str, resource, file_format: int):
    fields = {f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()}
    return client.post(
        reverse(f"admin:inventory_{model}_export"),
        {"format": str(file_format), "resource": "0", **fields},
    )


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [tuple(cell for cell in row) for row in sheet.iter_rows()]


def test_product_export_csv_escapes_a_name_starting_with_equals(admin_client_logged, evil):
    # when
    response = export(admin_client_logged, "product", ProductResource, 0)

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, row = csv_rows(response)
    assert header[:2] == ["sku", "name"]
    assert row[1] == '\'=HYPERLINK("http://evil","click")'


def test_product_export_xlsx_has_text_not_a_formula(admin_client_logged, evil):
    # when
    response = export(admin_client_logged, "product", ProductResource, 1)

    # then
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cell = sheet["B2"]
    assert cell.data_type == "s"
    assert cell.value == '\'=HYPERLINK("http://evil","click")'
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_stock_export_keeps_numbers_and_escapes_names(admin_client_logged, evil):
    # when
    as_csv = csv_rows(export(admin_client_logged, "stocklevel", StockLevelResource, 0))
    workbook = openpyxl.load_workbook(
        io.BytesIO(export(admin_client_logged, "stocklevel", StockLevelResource, 1).content)
    )

    # then
    header, row = as_csv
    assert dict(zip(header, row, strict=True))["name"].startswith("'=")
    assert dict(zip(header, row, strict=True))["on_hand"] == "3"
    values = [c.value for c in next(workbook.active.iter_rows(min_row=2))]
    assert values[3] == 3  # on_hand stays a number in XLSX


def test_movement_export_escapes_references_and_reasons_but_not_quantities(
    admin_client_logged, evil
):
    # when
    header, *rows = csv_rows(export(admin_client_logged, "stockmovement", StockMovementResource, 0))

    # then
    by_kind = {row[header.index("kind")]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_kind["receipt"]["reference"] == "'@SUM(A1)"
    assert by_kind["adjustment"]["reason"] == "'-2+3"
    assert by_kind["adjustment"]["quantity"] == "-1"


@pytest.mark.parametrize("text", ["\tcmd", "\rcmd", "+cmd", "-cmd", "@cmd", "=cmd"])
def test_every_trigger_is_escaped_in_csv_and_xlsx_formats(text):
    # given: a dataset as a resource exports it, for each format the admin offers
    product = ProductFactory(name=text)
    for file_format in (CSV(), XLSX()):
        dataset = ProductResource().export(queryset=[product])

        # when
        exported = file_format.export_data(dataset)

        # then
        if isinstance(file_format, CSV):
            assert ("'" + text) in exported and f",{text}" not in exported
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
            # (an XML parser reads a CR back as LF)
            assert sheet["B2"].value.replace("\n", "\r") == "'" + text.replace("\n", "\r")
            assert sheet["B2"].data_type == "s"


def test_export_stock_command_writes_escaped_files(evil, tmp_path):
    # when
    call_command("export_stock", "--output", str(tmp_path / "stock.csv"))
    call_command("export_stock", "--movements", "--output", str(tmp_path / "ledger.xlsx"))

    # then
    header, row = list(csv.reader((tmp_path / "stock.csv").open(encoding="utf-8-sig")))
    assert row[header.index("name")].startswith("'=")
    sheet = openpyxl.load_workbook(tmp_path / "ledger.xlsx").active
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    assert sheet.max_row == 3


def test_the_library_setting_alone_would_let_formulas_through(settings):
    # given: django-import-export's own escaping, which the setting turns on
    import tablib
    from import_export.formats import base_formats

    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    dataset = tablib.Dataset(["+cmd", "\t=1", "=1+2"], headers=["a", "b", "c"])

    # when
    exported = base_formats.CSV().export_data(dataset)

    # then: "+" and tab pass, "=" is dropped (changing the data): why we escape ourselves
    assert exported.splitlines()[1] == "+cmd,\t=1,1+2"
