"""Exchanges: the new order a return places, and what cancelling the return does to it."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE
from fulfilment.models import Fulfilment
from inventory.models import StockLevel
from orders.models import Channel, Order
from orders.services.fulfilments import fulfilment_ship
from outbox.models import OutboxEvent
from returns.models import Return
from tests.console.helpers import person
from tests.orders.helpers import product, stocked, warehouse
from tests.returns.helpers import order_shipped

pytestmark = pytest.mark.django_db

LIST = reverse("returns")


@pytest.fixture
def shipped():
    small, large = product("TEE-S"), product("TEE-L")
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(small, paris, 5)
    stocked(large, paris, 5)
    return order_shipped([(small, 1, "19.90")])


def exchange(api, order):
    return api.post(
        LIST,
        {
            "order": order.number,
            "lines": [{"sku": "TEE-S", "quantity": 1, "reason": "too_small"}],
            "method": "mail",
            "location": None,
            "resolution": "exchange",
            "exchange_lines": [{"sku": "TEE-L", "quantity": 1}],
        },
        format="json",
    )


def test_an_exchange_places_a_new_order_at_once_sourced_like_any(api, shipped):
    # when
    response = exchange(api, shipped)
    # then
    assert response.status_code == 201, response.json()
    answer = response.json()
    new = Order.objects.get(number=answer["exchange_order"])
    assert new.external_id == answer["number"]
    assert new.channel_id == shipped.channel_id
    assert new.customer_email == shipped.customer_email
    assert new.status == Order.Status.ALLOCATED
    assert [(line.product.sku, line.quantity) for line in new.lines.all()] == [("TEE-L", 1)]
    assert answer["refund"]["status"] == "none"


def test_cancelling_the_return_cancels_its_exchange_order_if_not_shipped(api, shipped):
    # given
    number = exchange(api, shipped).json()["number"]
    # when
    response = api.post(reverse("return-cancel", args=[number]), {}, format="json")
    # then
    assert response.status_code == 200
    new = Return.objects.get(number=number).exchange_order
    assert new.status == Order.Status.CANCELLED


def test_a_shipped_exchange_order_stays_when_the_return_is_cancelled(api, shipped):
    # given
    number = exchange(api, shipped).json()["number"]
    new = Return.objects.get(number=number).exchange_order
    for fulfilment in Fulfilment.objects.filter(order=new):
        fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="c", tracking_number="X")
    # when
    response = api.post(reverse("return-cancel", args=[number]), {}, format="json")
    # then
    assert response.status_code == 200
    new.refresh_from_db()
    assert new.status == Order.Status.SHIPPED
    assert new.events.filter(kind="note", message__contains=number).exists()


def test_a_computed_refund_of_an_exchange_is_a_409(api, shipped):
    number = exchange(api, shipped).json()["number"]
    response = api.post(reverse("return-refund", args=[number]), {}, format="json")
    assert response.status_code == 409


def ship_url(order: Order) -> str:
    return reverse("fulfilment-ship", args=[Fulfilment.objects.get(order=order).pk])


def receive(api, number: str, quantity: int):
    return api.post(
        reverse("return-receive", args=[number]),
        {
            "location": "DC-PARIS",
            "lines": [{"sku": "TEE-S", "quantity": quantity, "disposition": "restock"}],
        },
        format="json",
    )


def test_a_channel_that_waits_holds_the_exchange_until_every_returned_unit_is_in(api):
    # given: the web channel ships exchanges once the return is received; 2 units go back
    Channel.objects.filter(code="web").update(
        exchange_shipping=Channel.ExchangeShipping.WHEN_RECEIVED
    )
    small, large = product("TEE-S"), product("TEE-L")
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(small, paris, 5)
    stocked(large, paris, 5)
    shipped = order_shipped([(small, 2, "19.90")])
    answer = api.post(
        LIST,
        {
            "order": shipped.number,
            "lines": [{"sku": "TEE-S", "quantity": 2, "reason": "too_small"}],
            "method": "mail",
            "resolution": "exchange",
            "exchange_lines": [{"sku": "TEE-L", "quantity": 2}],
        },
        format="json",
    ).json()
    new = Order.objects.get(number=answer["exchange_order"])
    ship = {"carrier": "colissimo", "tracking_number": "X1"}

    # then: placed and holding its units at once, but it may not leave
    assert new.status == Order.Status.ALLOCATED and new.held_for
    assert StockLevel.objects.get(product=large, location=paris).allocated == 2
    refused = api.post(ship_url(new), ship, format="json")
    assert refused.status_code == 409
    assert "on hold" in refused.json()["errors"]["status"][0]

    # when: one unit of two arrives
    assert receive(api, answer["number"], 1).status_code == 200
    # then: still held
    assert api.post(ship_url(new), ship, format="json").status_code == 409

    # when: the last unit arrives
    assert receive(api, answer["number"], 1).status_code == 200
    # then: released, its timeline says why, and it ships
    new.refresh_from_db()
    assert new.held_for == ""
    released = new.events.get(kind="released_to_ship")
    assert answer["number"] in released.message
    assert api.post(ship_url(new), ship, format="json").status_code == 200
    new.refresh_from_db()
    assert new.status == Order.Status.SHIPPED


def test_a_channel_that_ships_at_once_lets_the_exchange_leave_before_the_return(api, shipped):
    # given: the default policy
    assert Channel.objects.get(code="web").exchange_shipping == "at_once"
    new = Order.objects.get(number=exchange(api, shipped).json()["exchange_order"])
    # when
    response = api.post(
        ship_url(new), {"carrier": "colissimo", "tracking_number": "X2"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert new.held_for == ""


def test_the_channel_admin_sets_when_exchanges_ship(admin_client_logged):
    # given
    channel = Channel.objects.get(code="web")
    url = reverse("admin:orders_channel_change", args=[channel.pk])
    # when
    page = admin_client_logged.get(url)
    response = admin_client_logged.post(
        url,
        {
            "name": channel.name,
            "active": "on",
            "buffer_units": "0",
            "buffer_percent": "0",
            "return_days": "14",
            "exchange_shipping": "when_received",
        },
    )
    # then
    assert b"When the return is received" in page.content
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.return_days, channel.exchange_shipping) == (14, "when_received")


def test_a_held_exchange_asks_no_location_until_its_return_is_in_then_once(api, tmp_path, client):
    # given: exchanges wait for the return; the exchange is sent from a 3PL working by file
    Channel.objects.filter(code="web").update(
        exchange_shipping=Channel.ExchangeShipping.WHEN_RECEIVED
    )
    small, large = product("TEE-S"), product("TEE-L")
    paris = warehouse("DC-PARIS", lat=48.86, lon=2.34)
    stocked(small, paris, 5)
    stocked(large, warehouse("3PL-BE", kind="third_party", lat=50.85, lon=4.35), 5)
    shipped = order_shipped([(small, 1, "19.90")])
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    client.force_login(person("service", CUSTOMER_SERVICE))
    service_client = client

    # when: the exchange is made
    answer = exchange(api, shipped).json()
    new = Order.objects.get(number=answer["exchange_order"])

    # then: it holds its units at the 3PL, says why in its answer, and asks nobody for them
    (request,) = Fulfilment.objects.filter(order=new)
    assert request.location.code == "3PL-BE" and request.status == "requested"
    shown = api.get(reverse("order-detail", args=[new.number])).json()
    assert shown["held_for"] and answer["number"] in shown["held_for"]
    assert requested_events(request, before) == []
    assert export_rows(tmp_path) == []
    assert queue(api) == []
    assert console_queue(service_client) == []
    # and a location that learnt of it anyway cannot take it on
    refused = api.post(reverse("fulfilment-accept", args=[request.pk]))
    assert refused.status_code == 409 and "on hold" in str(refused.json()["errors"])
    request.refresh_from_db()
    assert request.status == "requested"
    page = service_client.get(reverse("orders_console:order", args=[new.number]))
    assert "On hold" in page.content.decode() and answer["number"] in page.content.decode()

    # when: the return comes in
    assert receive(api, answer["number"], 1).status_code == 200

    # then: the request goes out, once, by webhook and in the next file
    assert requested_events(request, before) == [request.pk]
    assert api.get(reverse("order-detail", args=[new.number])).json()["held_for"] is None
    assert queue(api) == [request.pk]
    assert console_queue(service_client) == [new.number]
    assert [row["order"] for row in export_rows(tmp_path)] == [new.number]
    assert export_rows(tmp_path) == []
    page = service_client.get(reverse("orders_console:order", args=[new.number]))
    assert "On hold" not in page.content.decode()


def test_an_exchange_that_ships_at_once_is_requested_at_once(api, shipped):
    # given: the default policy
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    # when
    new = Order.objects.get(number=exchange(api, shipped).json()["exchange_order"])
    # then
    (request,) = Fulfilment.objects.filter(order=new)
    assert requested_events(request, before) == [request.pk]
    assert api.get(reverse("order-detail", args=[new.number])).json()["held_for"] is None


def requested_events(request: Fulfilment, before: set[int]) -> list[int]:
    """Return the fulfilment ids of the `fulfilment.requested` events about `request` written
    since `before` (the outbox rows the relay sends)."""
    rows = OutboxEvent.objects.filter(event="fulfilment.requested").exclude(pk__in=before)
    return [row.data["id"] for row in rows.order_by("pk") if row.data["id"] == request.pk]


def queue(api) -> list[int]:
    """Return the requests the 3PL's queue lists (GET /api/v1/fulfilments/)."""
    answer = api.get(reverse("fulfilments"), {"location": "3PL-BE", "status": "requested"})
    return [row["id"] for row in answer.json()["results"]]


def console_queue(client) -> list[str]:
    """Return the order numbers the console's "to accept" queue lists."""
    page = client.get(reverse("oms_console:queue", args=["to-accept"]))
    assert page.status_code == 200
    return [row.order.number for row in page.context["rows"]]


def export_rows(tmp_path) -> list[dict]:
    path = tmp_path / "out.csv"
    call_command("export_fulfilments", "--location", "3PL-BE", "--output", str(path))
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
