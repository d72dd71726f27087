"""With a real Celery worker: a shipment takes stock under its threshold, and within
seconds there is an open alert and a queued `stock.low` event."""

import pytest

from alerts.models import Alert, StockRule
from outbox.models import OutboxEvent
from tests.factories import LocationFactory, ProductFactory
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_a_shipment_under_the_threshold_raises_an_alert_and_a_stock_low_event(
    api, user, celery_worker_process
):
    # given: 6 units at PARIS, a threshold of 3, and an order for 4
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.all())
    ProductFactory(sku="TEE-E2E", name="Striped tee")
    paris = LocationFactory(code="DC-PARIS", lat=48.97, lon=2.51)
    StockRule.objects.create(scope="global", threshold=3)
    receipt = api.post(
        "/api/v1/stock/movements/",
        {"sku": "TEE-E2E", "location": "DC-PARIS", "kind": "receipt", "quantity": 6},
        format="json",
    )
    assert receipt.status_code == 201, receipt.content
    created = api.post(
        "/api/v1/orders/",
        {
            "channel": "web",
            "external_id": "W-ALERT-1",
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "shipping_address": {
                "line1": "1 rue de Rivoli", "city": "Paris", "postcode": "75001",
                "country": "FR", "lat": 48.8606, "lon": 2.3376,
            },
            "delivery_method": "standard",
            "currency": "EUR",
            "lines": [{"sku": "TEE-E2E", "quantity": 4, "unit_price": "19.90"}],
        },
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    fulfilment_id = api.get("/api/v1/fulfilments/").json()["results"][0]["id"]
    assert api.post(f"/api/v1/fulfilments/{fulfilment_id}/accept/").status_code == 200

    # when: the warehouse ships (on hand 6 -> 2, under the threshold)
    shipped = api.post(
        f"/api/v1/fulfilments/{fulfilment_id}/ship/",
        {"carrier": "Colissimo", "tracking_number": "6A0099"},
        format="json",
    )
    assert shipped.status_code == 200, shipped.content

    # then: the worker, kicked after commit, opened the alert and queued the event
    alert = wait_for(
        lambda: Alert.objects.filter(kind="low_stock", location=paris, status="open").first()
    )
    assert alert.details["available"] == 2 and alert.details["threshold"] == 3
    event = wait_for(lambda: OutboxEvent.objects.filter(event="stock.low").first())
    assert event.data["sku"] == "TEE-E2E" and event.data["location"] == "DC-PARIS"
    assert event.location_id == paris.pk
    listed = api.get("/api/v1/alerts/", {"kind": "low_stock"}).json()["results"]
    assert [(a["sku"], a["location"], a["status"]) for a in listed] == [
        ("TEE-E2E", "DC-PARIS", "open")
    ]
