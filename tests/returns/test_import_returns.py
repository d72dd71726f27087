"""`import_returns FILE`: a 3PL's received returns, all or nothing with per-row errors."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from returns.imports import ReturnsRejected, returns_import
from returns.models import ReturnReceipt
from returns.services import return_cancel
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped, return_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tmp_path):
    tee, mug = product("TEE-1"), product("MUG-1")
    threepl = warehouse("3PL-BE", kind="third_party")
    stocked(tee, threepl, 10)
    stocked(mug, threepl, 10)
    order = order_shipped([(tee, 2, "19.90"), (mug, 1, "9.50")])
    first = return_of(order, [(tee, 2)], location=threepl)
    second = return_of(order, [(mug, 1)], location=threepl)
    return tee, mug, threepl, first, second


def run(tmp_path, text: str, *args):
    path = tmp_path / "returns.csv"
    path.write_text(text)
    out, err = StringIO(), StringIO()
    call_command("import_returns", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_receives_every_return_of_the_file(tmp_path, world):
    # given
    tee, mug, threepl, first, second = world
    before = StockLevel.objects.get(product=tee, location=threepl).on_hand
    text = (
        "return,sku,quantity,disposition\n"
        f"{first.number},TEE-1,1,restock\n"
        f"{first.number},TEE-1,1,damaged\n"
        f"{second.number.lower()},MUG-1,1,dispose\n"
    )
    # when
    out, _ = run(tmp_path, text, "--location", "3PL-BE")
    # then
    assert "Received 2 return(s)." in out
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("received", "received")
    stock = StockLevel.objects.get(product=tee, location=threepl)
    assert (stock.on_hand, stock.quarantined) == (before + 1, 1)
    assert StockMovement.objects.filter(kind="return", reference=f"return {first.number}").exists()
    assert set(ReturnReceipt.objects.values_list("source", flat=True)) == {"file"}
    assert stock_drift() == []


def test_any_bad_row_rejects_the_file_and_names_every_bad_row(tmp_path, world):
    # given
    tee, mug, threepl, first, second = world
    text = (
        "return;sku;quantity;disposition\n"
        f"{first.number};TEE-1;1;restock\n"
        "RZZZZZZZZZ;TEE-1;1;restock\n"
        f"{second.number};MUG-1;two;restock\n"
        f"{second.number};MUG-1;1;burn\n"
    )
    # when
    with pytest.raises(CommandError, match="3 row"):
        run(tmp_path, text)
    # then: nothing was applied
    assert ReturnReceipt.objects.count() == 0
    first.refresh_from_db()
    assert first.status == "requested"


def test_more_than_the_return_expects_rejects_the_whole_file(tmp_path, world):
    tee, mug, threepl, first, second = world
    text = (
        "return,sku,quantity,disposition\n"
        f"{second.number},MUG-1,1,restock\n"
        f"{first.number},TEE-1,3,restock\n"
    )
    with pytest.raises(CommandError, match="nothing was applied"):
        run(tmp_path, text)
    assert ReturnReceipt.objects.count() == 0
    assert not StockMovement.objects.filter(kind="return").exists()


def test_an_empty_file_is_refused(tmp_path, world):
    with pytest.raises(CommandError):
        run(tmp_path, "")


def test_each_refused_row_is_named_with_its_field_and_nothing_is_applied(world):
    # given: a good row, then rows the database refuses, each for its own reason
    tee, mug, threepl, first, second = world
    product("SOCK-1")
    return_cancel(ret=second)
    data = (
        "return,sku,quantity,disposition\n"
        f"{first.number},TEE-1,1,restock\n"
        f"{first.number},MUG-1,1,restock\n"
        f"{first.number},TEE-1,2,damaged\n"
        f"{first.number},NOPE-1,1,restock\n"
        f"{second.number},MUG-1,1,restock\n"
        f"{first.number},SOCK-1,1,dispose\n"
    ).encode()
    # when
    with pytest.raises(ReturnsRejected) as refused:
        returns_import(data=data)
    # then
    assert [(e["row"], e["field"]) for e in refused.value.row_errors] == [
        (3, "sku"),
        (4, "quantity"),
        (5, "sku"),
        (6, "return"),
        (7, "sku"),
    ]
    messages = [e["message"] for e in refused.value.row_errors]
    assert messages[0] == f"not on return {first.number}"
    assert messages[1] == f"2 received, but return {first.number} expects 1 more of it"
    assert messages[2] == "no product with SKU 'NOPE-1'"
    assert "cancelled" in messages[3]
    assert ReturnReceipt.objects.count() == 0
    assert not StockMovement.objects.filter(kind="return").exists()
    first.refresh_from_db()
    assert first.status == "requested"
