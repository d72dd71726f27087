"""Basket reservations: POST/GET/DELETE /api/v1/reservations/, expiry, consumption by orders."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel
from inventory.selectors import availability_for_skus
from orders.models import Order, Reservation, ReservationLine
from orders.services.reservations import (
    ReservedLine,
    reservation_create,
    reservations_expire,
)
from orders.tasks import reservations_expire_task

URL = reverse("reservations")
pytestmark = pytest.mark.django_db


def hold(net, lines, *, store=None, minutes=None, now=None) -> Reservation:
    return reservation_create(
        channel=net["web"],
        lines=[ReservedLine(net[sku.lower()], n) for sku, n in lines],
        pickup_location=store,
        minutes=minutes,
        now=now,
    )


def available(sku: str) -> int:
    return availability_for_skus(skus=[sku])[sku]["available"]


def order_body(reservation_id=None, **changes) -> dict:
    body = {
        "channel": "web",
        "external_id": "W-1",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75004",
            "country": "FR",
            "lat": 48.8566,
            "lon": 2.3522,
        },
        "currency": "EUR",
        "lines": [{"sku": "TEE", "quantity": 10, "unit_price": "20.00"}],
        "reservation": reservation_id,
        **changes,
    }
    return body


def test_a_reservation_holds_units_and_lowers_available_for_everyone(api, net):
    # given: 14 tees sellable (10 at DC-PARIS, 2 + 2 in Paris stores, 2 in Lyon: 16)
    before = available("TEE")
    # when
    response = api.post(
        URL, {"channel": "web", "lines": [{"sku": "TEE", "quantity": 10}]}, format="json"
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["lines"] == [{"sku": "TEE", "quantity": 10, "location": "DC-PARIS"}]
    assert available("TEE") == before - 10
    stock = StockLevel.objects.get(product=net["tee"], location=net["dc_paris"])
    assert (stock.reserved, stock.available) == (10, 0)
    reservation = Reservation.objects.get(public_id=body["id"])
    assert reservation.expires_at - reservation.created_at == timedelta(minutes=15)


def test_a_reservation_the_network_cannot_hold_whole_is_a_409_and_holds_nothing(api, net):
    response = api.post(
        URL, {"channel": "web", "lines": [{"sku": "TEE", "quantity": 500}]}, format="json"
    )
    assert response.status_code == 409
    assert "lines" in response.json()["errors"]
    assert not Reservation.objects.exists()
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0


def test_a_reservation_at_a_store_holds_that_stores_units(api, net):
    response = api.post(
        URL,
        {
            "channel": "web",
            "lines": [{"sku": "TEE", "quantity": 2}],
            "pickup_location": "ST-OPERA",
            "minutes": 30,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["location"] == "ST-OPERA"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "nope"}, "channel"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "TEE", "quantity": -1}]}, "lines"),
        ({"minutes": 10_000}, "minutes"),
        ({"pickup_location": "DC-PARIS"}, "pickup_location"),
    ],
)
def test_bad_reservations_are_400s_naming_the_field(api, net, change, field):
    body = {"channel": "web", "lines": [{"sku": "TEE", "quantity": 1}], **change}
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Reservation.objects.exists()


def test_an_expired_reservation_is_never_counted_even_before_the_sweep(api, net):
    # given: a reservation made 20 minutes ago, for 15 minutes; the sweep has not run
    before = available("TEE")
    reservation = hold(net, [("TEE", 10)], now=timezone.now() - timedelta(minutes=20))
    stock = StockLevel.objects.get(product=net["tee"], location=net["dc_paris"])
    assert stock.reserved == 10
    # then: availability, the stock API and its GET all treat it as gone
    assert available("TEE") == before
    rows = api.get(reverse("stock-list") if False else "/api/v1/stock/?sku=TEE&location=DC-PARIS")
    assert rows.json()["results"][0]["available"] == 10
    detail = api.get(reverse("reservation-detail", args=[reservation.public_id]))
    assert detail.json()["status"] == "expired"
    # and an order can take the units
    placed = api.post(reverse("orders"), order_body(), format="json")
    assert placed.json()["status"] == "allocated"


def test_the_sweep_releases_expired_reservations_and_leaves_live_ones(net):
    # given
    old = hold(net, [("TEE", 5)], now=timezone.now() - timedelta(hours=1))
    live = hold(net, [("TEE", 3)])
    # when: the periodic task runs, twice
    assert reservations_expire_task.apply().get() == 1
    assert reservations_expire() == 0
    # then
    old.refresh_from_db()
    live.refresh_from_db()
    assert (old.status, live.status) == ("expired", "active")
    assert not ReservationLine.objects.get(reservation=old).active
    stock = StockLevel.objects.get(product=net["tee"], location=net["dc_paris"])
    assert stock.reserved == 3


def test_an_order_naming_its_reservation_consumes_it(api, net):
    # given: all 10 warehouse tees held for this basket
    reservation = hold(net, [("TEE", 10)])
    # and another customer cannot have them
    other = api.post(reverse("orders"), order_body(None, external_id="W-OTHER"), format="json")
    assert (
        other.json()["status"] != "allocated"
        or other.json()["allocations"][0]["location"] != "DC-PARIS"
    )
    api.post(reverse("order-cancel", args=[other.json()["number"]]), {}, format="json")
    # when
    response = api.post(reverse("orders"), order_body(str(reservation.public_id)), format="json")
    # then
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "allocated"
    reservation.refresh_from_db()
    order = Order.objects.get(number=response.json()["number"])
    assert (reservation.status, reservation.order) == ("consumed", order)
    stock = StockLevel.objects.get(product=net["tee"], location=net["dc_paris"])
    assert (stock.reserved, stock.allocated) == (0, 10)
    # and it cannot be used twice
    again = api.post(
        reverse("orders"),
        order_body(str(reservation.public_id), external_id="W-2"),
        format="json",
    )
    assert again.status_code == 400
    assert "reservation" in again.json()["errors"]


def test_the_same_order_sent_again_with_its_reservation_answers_the_order(api, net):
    reservation = hold(net, [("TEE", 2)])
    first = api.post(reverse("orders"), order_body(str(reservation.public_id)), format="json")
    again = api.post(reverse("orders"), order_body(str(reservation.public_id)), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]


def test_an_unknown_reservation_in_an_order_is_a_400(api, net):
    response = api.post(
        reverse("orders"), order_body("5f0e6b4c-8a7e-4b7e-9c59-1f6f3f3c2b11"), format="json"
    )
    assert response.status_code == 400
    assert "reservation" in response.json()["errors"]
    assert not Order.objects.exists()


def test_deleting_a_reservation_gives_its_units_back(api, net):
    # given
    before = available("TEE")
    reservation = hold(net, [("TEE", 4)])
    url = reverse("reservation-detail", args=[reservation.public_id])
    # when
    response = api.delete(url)
    # then
    assert response.status_code == 204
    assert available("TEE") == before
    assert api.get(url).json()["status"] == "released"
    assert api.delete(url).status_code == 204  # again: nothing more happens
    assert StockLevel.objects.filter(reserved__gt=0).count() == 0


def test_deleting_a_consumed_reservation_is_a_409(api, net):
    reservation = hold(net, [("TEE", 2)])
    api.post(reverse("orders"), order_body(str(reservation.public_id)), format="json")
    response = api.delete(reverse("reservation-detail", args=[reservation.public_id]))
    assert response.status_code == 409


def test_an_unknown_reservation_is_a_404(api, net):
    assert api.get(reverse("reservation-detail", args=["nope"])).status_code == 404
