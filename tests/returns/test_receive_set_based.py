"""Receiving is set-based: one receipt of two lines or of twenty, one file of one return or
of ten, costs the same statements; the ledger, quarantine and events come out whole."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from outbox.models import OutboxEvent
from returns.imports import returns_import
from returns.models import Return
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped, return_of

pytestmark = pytest.mark.django_db


def shipped_with_a_return(skus: list[str], paris):
    products = [product(sku) for sku in skus]
    for item in products:
        stocked(item, paris, 5)
    order = order_shipped([(item, 1, "10.00") for item in products])
    return products, return_of(order, [(item, 1) for item in products], location=paris)


def received_through_the_api(api, ret, skus) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            reverse("return-receive", args=[ret.number]),
            {
                "location": "DC-PARIS",
                "lines": [
                    {"sku": sku, "quantity": 1, "disposition": "restock" if i % 2 else "damaged"}
                    for i, sku in enumerate(skus)
                ],
            },
            format="json",
        )
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_a_receipt_costs_the_same_statements_for_two_lines_or_twenty(api):
    # given
    paris = warehouse("DC-PARIS")
    # (every receipt restocks some units and sets some aside: both paths in each)
    one = [f"ONE-{i}" for i in range(2)]
    twenty = [f"TWENTY-{i}" for i in range(20)]
    _, small = shipped_with_a_return(one, paris)
    _, large = shipped_with_a_return(twenty, paris)
    # when
    small_count, _ = received_through_the_api(api, small, one)
    large_count, answer = received_through_the_api(api, large, twenty)
    # then: the same statements, and the answer is the return as a read shows it
    assert large_count == small_count
    assert answer == api.get(reverse("return-detail", args=[large.number])).json()
    assert answer["status"] == "received"
    assert sum(line["restocked"] for line in answer["lines"]) == 10
    rows = StockLevel.objects.filter(product__sku__startswith="TWENTY-")
    assert sum(row.quarantined for row in rows) == 10
    assert stock_drift() == []
    (event,) = OutboxEvent.objects.filter(event="return.received", data__number=large.number)
    assert event.data == answer


def test_a_file_of_ten_returns_costs_the_statements_of_one(api):
    # given: one return, then ten, each of two SKUs
    paris = warehouse("DC-PARIS")
    files = []
    for size in (1, 10):
        text = "return,sku,quantity,disposition\n"
        for n in range(size):
            skus = [f"F{size}-{n}-A", f"F{size}-{n}-B"]
            _, ret = shipped_with_a_return(skus, paris)
            text += "".join(f"{ret.number},{sku},1,restock\n" for sku in skus)
        files.append(text.encode())
    # when
    counts = []
    for data in files:
        with CaptureQueriesContext(connection) as queries:
            returns_import(data=data)
        counts.append(len(queries))
    # then
    assert counts[0] == counts[1]
    assert Return.objects.exclude(status="received").count() == 0
    assert StockMovement.objects.filter(kind="return").count() == 22
    assert stock_drift() == []
