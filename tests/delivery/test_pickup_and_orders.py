"""Orders placed with a delivery option: promise and price stored, click & collect at the
store only (or by transfer), the ready e-mail, the hold period, the at-risk selector."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.models import StockLevel
from orders.models import Order
from orders.selectors import orders_at_risk, orders_late
from orders.services.fulfilments import fulfilment_ready
from orders.services.pickup import pickup_ready_notify, pickups_expire
from orders.tasks import pickups_expire_task

pytestmark = pytest.mark.django_db
ORDERS = reverse("orders")


def body(lines, **changes) -> dict:
    return {
        "channel": "web",
        "external_id": changes.pop("external_id", "W-1"),
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75004",
            "country": "FR",
            "lat": 48.8566,
            "lon": 2.3522,
        },
        "currency": "EUR",
        "lines": [{"sku": s, "quantity": n, "unit_price": "20.00"} for s, n in lines],
        **changes,
    }


def pickup(lines, store="ST-OPERA", **changes) -> dict:
    return body(lines, delivery_method="click_and_collect", pickup_location=store, **changes) | {
        "shipping_address": None
    }


def test_an_order_stores_its_promised_date_and_quoted_price(api, net):
    # when
    response = api.post(ORDERS, body([("TEE", 1)], delivery_method="express"), format="json")
    # then
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    assert order.shipping_price == Decimal("9.90")
    assert order.promised_date is not None and order.promised_date > timezone.localdate()
    assert response.json()["shipping_price"] == "9.90"
    assert response.json()["promised_date"] == order.promised_date.isoformat()
    # and the tracking page and the console show them
    page = api.get(response.json()["tracking_url"])
    assert b"9.90 EUR" in page.content


def test_free_delivery_above_the_basket_value_is_stored_as_zero(api, net):
    response = api.post(ORDERS, body([("TEE", 3)]), format="json")  # 60.00
    assert Order.objects.get(number=response.json()["number"]).shipping_price == Decimal("0.00")


def test_click_and_collect_allocates_at_the_pickup_store_only(api, net):
    response = api.post(ORDERS, pickup([("TEE", 2), ("MUG", 1)]), format="json")
    assert response.status_code == 201, response.content
    assert {a["location"] for a in response.json()["allocations"]} == {"ST-OPERA"}
    assert response.json()["shipping_price"] == "0.00"


def test_click_and_collect_at_a_store_lacking_a_line_is_refused_with_the_reason(api, net):
    # when: the Lyon store has no mugs
    response = api.post(ORDERS, pickup([("TEE", 1), ("MUG", 1)], store="ST-LYON"), format="json")
    # then
    assert response.status_code == 400
    assert "does not have the whole basket" in response.json()["errors"]["pickup_location"][0]
    assert not Order.objects.exists()
    assert StockLevel.objects.filter(allocated__gt=0).count() == 0


def test_a_channel_allowing_transfers_sends_the_rest_from_a_warehouse(api, net):
    # given: only the warehouses ship (Rivoli would otherwise send its own units)
    net["web"].pickup_transfer = True
    net["web"].save(update_fields=["pickup_transfer"])
    net["rivoli"].ships = False
    net["rivoli"].save(update_fields=["ships"])
    # when: the Lyon store has tees, the mugs come from the Lyon warehouse
    response = api.post(ORDERS, pickup([("TEE", 1), ("MUG", 1)], store="ST-LYON"), format="json")
    # then: the store's tee is allocated there; the mug is held at the warehouse by a
    # transfer to the store (tests/delivery/test_pickup_by_transfer.py follows it through)
    assert response.status_code == 201, response.content
    where = {a["sku"]: a["location"] for a in response.json()["allocations"]}
    assert where == {"TEE": "ST-LYON"}
    assert StockLevel.objects.get(product=net["mug"], location=net["dc_lyon"]).allocated == 1
    # and the promise includes the transfer: later than the store alone could do
    order = Order.objects.get(number=response.json()["number"])
    alone = api.post(
        ORDERS, pickup([("TEE", 1)], store="ST-LYON", external_id="W-2"), format="json"
    )
    assert order.promised_date > Order.objects.get(number=alone.json()["number"]).promised_date


def _ready(api, response) -> Order:
    order = Order.objects.get(number=response.json()["number"])
    for fulfilment in order.fulfilments.all():
        fulfilment_ready(fulfilment_id=fulfilment.pk)
    order.refresh_from_db()
    return order


def test_ready_for_pickup_emails_the_customer_after_commit_once(
    api, net, django_capture_on_commit_callbacks
):
    # given
    net["opera"].address = "2 boulevard des Capucines"
    net["opera"].opening_hours = "Monday to Saturday, 10:00 to 19:30"
    net["opera"].save(update_fields=["address", "opening_hours"])
    response = api.post(ORDERS, pickup([("TEE", 1)]), format="json")
    # when: the store marks it ready; the e-mail task is enqueued after commit
    with django_capture_on_commit_callbacks() as callbacks:
        order = _ready(api, response)
    assert order.status == "ready_for_pickup"
    assert len(callbacks) >= 1
    # and the task's service runs (twice: a redelivery)
    assert pickup_ready_notify(order_id=order.pk) is True
    assert pickup_ready_notify(order_id=order.pk) is False
    # then: one e-mail with the store's address and hours
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ada@example.com"]
    assert "ready for pickup at Paris Opera" in sent.subject
    assert "2 boulevard des Capucines" in sent.body
    assert "Monday to Saturday, 10:00 to 19:30" in sent.body
    assert "2 boulevard des Capucines" in sent.alternatives[0][0]


def test_an_order_not_collected_within_the_hold_period_is_cancelled_and_released(api, net):
    # given: ready 8 days ago at a store holding parcels 7 days
    response = api.post(ORDERS, pickup([("TEE", 2)]), format="json")
    order = _ready(api, response)
    Fulfilment.objects.filter(order=order).update(ready_at=timezone.now() - timedelta(days=8))
    fresh = _ready(api, api.post(ORDERS, pickup([("MUG", 1)], external_id="W-2"), format="json"))
    # when: the periodic task runs, twice
    assert pickups_expire_task.apply().get() == 1
    assert pickups_expire() == 0
    # then
    order.refresh_from_db()
    fresh.refresh_from_db()
    assert (order.status, fresh.status) == ("cancelled", "ready_for_pickup")
    stock = StockLevel.objects.get(product=net["tee"], location=net["opera"])
    assert stock.allocated == 0
    cancelled = order.events.get(kind="cancelled")
    assert "Not collected within 7 day(s)" in cancelled.data["reason"]


def test_orders_at_risk_are_those_due_and_not_yet_gone(api, net):
    # given: three orders promised yesterday, today and next week
    today = timezone.localdate()
    numbers = []
    for i, days in enumerate((-1, 0, 7)):
        response = api.post(ORDERS, body([("TEE", 1)], external_id=f"R-{i}"), format="json")
        Order.objects.filter(number=response.json()["number"]).update(
            promised_date=today + timedelta(days=days)
        )
        numbers.append(response.json()["number"])
    # then
    assert [o.number for o in orders_at_risk()] == numbers[:2]
    assert [o.number for o in orders_late()] == numbers[:1]
    # and the admin filter lists them, the order page says so
    assert api.get(reverse("order-detail", args=[numbers[0]])).status_code == 200


def test_the_admin_filters_orders_at_risk(admin_client_logged, api, net):
    response = api.post(ORDERS, body([("TEE", 1)]), format="json")
    number = response.json()["number"]
    Order.objects.filter(number=number).update(
        promised_date=timezone.localdate() - timedelta(days=1)
    )
    page = admin_client_logged.get(reverse("admin:orders_order_changelist") + "?promise=late")
    assert number.encode() in page.content
    console = admin_client_logged.get(reverse("orders_console:order", args=[number]))
    assert b"late" in console.content
