"""The console's order page (/console/orders/<number>/) and its POST actions."""

import pytest
from django.test import Client
from django.urls import reverse

from fulfilment.models import Fulfilment
from inventory.models import StockLevel
from orders.models import Order, OrderEvent
from orders.services.fulfilments import fulfilment_ship
from tests.factories import StoreFactory, UserFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def page(order: Order) -> str:
    return reverse("orders_console:order", args=[order.number])


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def paris(tee):
    paris = warehouse("DC-PARIS")
    stocked(tee, paris, 10)
    return paris


def test_the_page_needs_a_staff_login(client, tee, paris):
    # given
    order = place([(tee, 1)])
    # when
    anonymous = client.get(page(order))
    client.force_login(UserFactory(username="shopper"))
    not_staff = client.get(page(order))
    # then
    for response in (anonymous, not_staff):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_page_shows_lines_allocations_sourcing_fulfilments_and_timeline(
    admin_client_logged, tee, paris, django_assert_max_num_queries
):
    # given
    mug = product("MUG-1")
    stocked(mug, warehouse("DC-LYON", lat=45.76, lon=4.84), 3)
    order = place([(tee, 2), (mug, 1)])
    admin_client_logged.post(reverse("orders_console:note", args=[order.number]), {"text": "VIP"})
    # when
    with django_assert_max_num_queries(12):
        response = admin_client_logged.get(page(order))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Order {order.number}" in html
    assert "TEE-1" in html and "MUG-1" in html
    assert "Chosen locations" in html and "Shipment cost" in html and "Distance cost" in html
    assert "DC-PARIS" in html and "DC-LYON" in html
    assert 'value="Accept"' in html and 'value="Ship"' in html and 'value="Reject"' in html
    assert "VIP" in html and "internal" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert reverse("admin:orders_order_change", args=[order.pk]) in html


def test_an_unknown_order_is_a_404(admin_client_logged):
    # when
    response = admin_client_logged.get(reverse("orders_console:order", args=["NOPE23456"]))
    # then
    assert response.status_code == 404


def test_the_find_box_goes_to_the_order_or_lists_what_it_finds(admin_client_logged, tee, paris):
    # given
    order = place([(tee, 1)])
    find = reverse("orders_console:find")
    # when
    exact = admin_client_logged.get(find, {"q": order.number.lower()})
    other = admin_client_logged.get(find, {"q": "ada@example.com"})
    # then
    assert exact["Location"] == page(order)
    assert other.status_code == 200
    assert [o.number for o in other.context["result"].orders] == [order.number]


def test_actions_need_a_csrf_token(staff_user, tee, paris):
    # given
    order = place([(tee, 1)])
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    # when
    response = client.post(reverse("orders_console:cancel", args=[order.number]), {"reason": "x"})
    # then
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "allocated"


def test_cancel_from_the_page_cancels_through_the_service(
    admin_client_logged, tee, paris, staff_user
):
    # given
    order = place([(tee, 2)])
    # when
    response = admin_client_logged.post(
        reverse("orders_console:cancel", args=[order.number]),
        {"reason": "duplicate order"},
        follow=True,
    )
    # then
    assert f"Order {order.number} cancelled." in said(response)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert OrderEvent.objects.get(order=order, kind="cancelled").actor == staff_user
    assert StockLevel.objects.get(product=tee, location=paris).allocated == 0


def test_a_domain_error_comes_back_as_a_message(admin_client_logged, tee, paris):
    # given
    order = place([(tee, 2)])
    fulfilment_ship(fulfilment_id=Fulfilment.objects.get().pk, carrier="UPS", tracking_number="1")
    # when
    response = admin_client_logged.post(
        reverse("orders_console:cancel", args=[order.number]), {"reason": ""}, follow=True
    )
    # then
    assert response.status_code == 200
    assert any("can no longer be cancelled" in m for m in said(response))
    order.refresh_from_db()
    assert order.status == "shipped"


def test_cancel_a_line_from_the_page(admin_client_logged, tee, paris):
    # given
    order = place([(tee, 4)])
    url = reverse("orders_console:line-cancel", args=[order.number, 1])
    # when
    bad = admin_client_logged.post(url, {"quantity": "0"}, follow=True)
    good = admin_client_logged.post(url, {"quantity": "3", "reason": "changed"}, follow=True)
    missing = admin_client_logged.post(
        reverse("orders_console:line-cancel", args=[order.number, 7])
    )
    # then
    assert any(m.startswith("Quantity:") for m in said(bad))
    assert "Line 1 now has 3 unit(s) cancelled." in said(good)
    assert missing.status_code == 404
    assert StockLevel.objects.get(product=tee, location=paris).allocated == 1


def test_resource_and_note_from_the_page(admin_client_logged, tee):
    # given
    order = place([(tee, 2)])
    stocked(tee, warehouse("DC-LYON", lat=45.76, lon=4.84), 5)
    # when
    resourced = admin_client_logged.post(
        reverse("orders_console:resource", args=[order.number]), follow=True
    )
    noted = admin_client_logged.post(
        reverse("orders_console:note", args=[order.number]), {"text": "Called back"}, follow=True
    )
    empty = admin_client_logged.post(
        reverse("orders_console:note", args=[order.number]), {"text": ""}, follow=True
    )
    # then
    assert f"Order {order.number} sourced again: allocated." in said(resourced)
    assert "Note added." in said(noted)
    assert any(m.startswith("Text:") for m in said(empty))
    note = OrderEvent.objects.get(order=order, kind="note", message="Called back")
    assert note.public is False


def test_fulfilment_buttons_accept_ship_and_reject(admin_client_logged, tee, paris):
    # given
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(tee, lyon, 5)
    shipped_order = place([(tee, 1)])
    rejected_order = place([(tee, 1)])
    to_ship = Fulfilment.objects.get(order=shipped_order)
    to_reject = Fulfilment.objects.get(order=rejected_order)

    def post(order, fulfilment, action, data=None):
        url = reverse("orders_console:fulfilment", args=[order.number, fulfilment.pk, action])
        return admin_client_logged.post(url, data or {}, follow=True)

    # when
    accepted = post(shipped_order, to_ship, "accept")
    no_tracking = post(shipped_order, to_ship, "ship", {"carrier": "UPS"})
    shipped = post(shipped_order, to_ship, "ship", {"carrier": "UPS", "tracking_number": "1Z"})
    rejected = post(rejected_order, to_reject, "reject", {"reason": "no", "reason_code": "other"})
    wrong_order = post(rejected_order, to_ship, "accept")
    unknown = post(shipped_order, to_ship, "teleport")
    # then
    assert f"Fulfilment {to_ship.pk} accepted." in said(accepted)
    assert any(m.startswith("Tracking number:") for m in said(no_tracking))
    assert f"Fulfilment {to_ship.pk} shipped." in said(shipped)
    assert any("sourced again" in m for m in said(rejected))
    assert (wrong_order.status_code, unknown.status_code) == (404, 404)
    assert Order.objects.get(pk=shipped_order.pk).status == "shipped"
    assert Fulfilment.objects.get(order=rejected_order, status="requested").location == lyon


def test_pickup_buttons_ready_then_collected(admin_client_logged, tee):
    # given
    store = StoreFactory(code="ST-1")
    stocked(tee, store, 2)
    order = place([(tee, 1)], delivery_method="click_and_collect", pickup_location=store)
    fulfilment = Fulfilment.objects.get()
    html = admin_client_logged.get(page(order)).content.decode()

    def post(action):
        url = reverse("orders_console:fulfilment", args=[order.number, fulfilment.pk, action])
        return admin_client_logged.post(url, follow=True)

    # when
    ready = post("ready")
    collected = post("collected")
    # then
    assert 'value="Ready for pickup"' in html and 'value="Ship"' not in html
    assert f"Fulfilment {fulfilment.pk} marked ready for pickup." in said(ready)
    assert f"Fulfilment {fulfilment.pk} collected." in said(collected)
    assert Order.objects.get(pk=order.pk).status == "collected"


def test_staff_without_permissions_see_the_page_but_cannot_act(client, tee, paris):
    # given
    order = place([(tee, 1)])
    client.force_login(UserFactory(username="viewer", is_staff=True))
    # when
    seen = client.get(page(order))
    attempt = client.post(reverse("orders_console:cancel", args=[order.number]))
    # then
    assert seen.status_code == 200
    assert b'value="Cancel order"' not in seen.content
    assert attempt.status_code == 403
    order.refresh_from_db()
    assert order.status == "allocated"
