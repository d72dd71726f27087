"""From a channel's API call to the customer's tracking page, with a real Celery worker.

The order arrives when nothing is in stock (backordered); a receipt through the
API makes the worker allocate it (the backorder task, sent after commit); the
warehouse accepts and ships through the API; the customer sees it on /track/.
"""

from urllib.parse import urlparse

import pytest

from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from orders.models import Order
from tests.factories import LocationFactory, ProductFactory
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_an_order_goes_from_the_api_to_the_tracking_page(api, client, celery_worker_process):
    # given: a product nobody has in stock yet
    ProductFactory(sku="TEE-E2E", name="Striped tee")
    LocationFactory(code="DC-PARIS", lat=48.97, lon=2.51)

    # when: a web order arrives
    created = api.post(
        "/api/v1/orders/",
        {
            "channel": "web",
            "external_id": "W-E2E-1",
            "customer": {"email": "Ada@Example.com", "name": "Ada Lovelace"},
            "shipping_address": {
                "line1": "1 rue de Rivoli",
                "city": "Paris",
                "postcode": "75001",
                "country": "FR",
                "lat": 48.8606,
                "lon": 2.3376,
            },
            "delivery_method": "standard",
            "currency": "EUR",
            "lines": [{"sku": "TEE-E2E", "quantity": 2, "unit_price": "19.90"}],
        },
        format="json",
    )
    # then: it is recorded and waits for stock
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["status"] == "backordered"

    # when: the warehouse receives the goods
    receipt = api.post(
        "/api/v1/stock/movements/",
        {"sku": "TEE-E2E", "location": "DC-PARIS", "kind": "receipt", "quantity": 5},
        format="json",
    )
    assert receipt.status_code == 201, receipt.content

    # then: the worker allocates the backorder on its own
    wait_for(lambda: Order.objects.get(number=number).status == "allocated")
    fulfilments = api.get("/api/v1/fulfilments/", {"location": "DC-PARIS"}).json()["results"]
    assert [(f["order"], f["status"]) for f in fulfilments] == [(number, "requested")]
    fulfilment_id = fulfilments[0]["id"]

    # when: the warehouse accepts and ships
    assert api.post(f"/api/v1/fulfilments/{fulfilment_id}/accept/").status_code == 200
    shipped = api.post(
        f"/api/v1/fulfilments/{fulfilment_id}/ship/",
        {"carrier": "Colissimo", "tracking_number": "6A00112233"},
        format="json",
    )

    # then: the stock left through the ledger and the order is shipped
    assert shipped.status_code == 200, shipped.content
    stock = StockLevel.objects.get(product__sku="TEE-E2E")
    assert (stock.on_hand, stock.allocated) == (3, 0)
    assert api.get(f"/api/v1/orders/{number}/").json()["status"] == "shipped"
    assert stock_drift() == []

    # and the customer sees it, by number and email or by the signed link
    page = client.post("/track/", {"number": number, "email": "ada@example.com"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Shipped" in html and "6A00112233" in html and "Colissimo" in html
    link = urlparse(created.json()["tracking_url"]).path
    assert "6A00112233" in client.get(link).content.decode()
