"""Orders and channels in the admin: changelist, the one search box, read-only pages, actions."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from fulfilment.models import Fulfilment
from inventory.models import StockLevel
from orders.models import Channel, Order, OrderEvent
from orders.services.fulfilments import fulfilment_ship
from tests.factories import UserFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def tee():
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS"), 50)
    return tee


def listed(response) -> set[str]:
    return {order.number for order in response.context["cl"].result_list}


def test_the_changelist_shows_orders_in_a_few_queries(
    admin_client_logged, tee, django_assert_max_num_queries
):
    # given
    orders = [place([(tee, 1)], channel=code) for code in ("web", "app", "web", "store")]
    # when
    with django_assert_max_num_queries(12):
        response = admin_client_logged.get(CHANGELIST)
    # then
    assert response.status_code == 200
    assert listed(response) == {o.number for o in orders}
    html = response.content.decode()
    assert reverse("orders_console:order", args=[orders[0].number]) in html
    assert "ada@example.com" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "backordered"}, "waiting"),
        ({"channel__id__exact": "APP"}, "app"),
        ({"delivery_method__exact": "standard"}, "all"),
        ({"needs_attention__exact": "1"}, "none"),
    ],
)
def test_the_changelist_filters(admin_client_logged, tee, query, expected):
    # given
    web = place([(tee, 1)])
    app = place([(tee, 1)], channel="app")
    waiting = place([(product("RARE"), 1)])
    if query.get("channel__id__exact") == "APP":
        query = {"channel__id__exact": Channel.objects.get(code="app").pk}
    # when
    response = admin_client_logged.get(CHANGELIST, query)
    # then
    assert response.status_code == 200
    want = {
        "waiting": {waiting.number},
        "app": {app.number},
        "all": {web.number, app.number, waiting.number},
        "none": set(),
    }[expected]
    assert listed(response) == want


@pytest.mark.parametrize(
    "term",
    [
        "{number}",
        "{number_lower}",
        "ADA.Lovelace@Example.com",
        "0033 6 12 34 56 78",
        "+33612345678",
        "W-777",
        "TRACK-42",
    ],
)
def test_one_search_box_finds_an_order_by_each_key(admin_client_logged, tee, term):
    # given
    order = place([(tee, 1)], email="ada.lovelace@example.com", external_id="W-777")
    place([(tee, 1)], email="bob@example.com", external_id="W-778")
    Order.objects.exclude(pk=order.pk).update(
        customer_phone="+44 20 7946 0000", customer_phone_digits="442079460000"
    )
    fulfilment_ship(
        fulfilment_id=Fulfilment.objects.get(order=order).pk,
        carrier="UPS",
        tracking_number="TRACK-42",
    )
    term = term.format(number=order.number, number_lower=order.number.lower())
    # when
    response = admin_client_logged.get(CHANGELIST, {"q": term})
    # then
    assert response.status_code == 200
    assert listed(response) == {order.number}


def test_a_search_that_matches_nothing_finds_nothing_and_does_not_guess(admin_client_logged, tee):
    # given
    place([(tee, 1)], email="ada@example.com")
    # when
    response = admin_client_logged.get(CHANGELIST, {"q": "ada"})
    # then
    assert response.status_code == 200
    assert listed(response) == set()


def test_the_change_page_is_read_only_with_lines_fulfilments_and_timeline(admin_client_logged, tee):
    # given
    order = place([(tee, 2)])
    # when
    response = admin_client_logged.get(reverse("admin:orders_order_change", args=[order.pk]))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert 'name="status"' not in html
    assert "Order received." in html
    assert "DC-PARIS" in html
    assert reverse("orders_console:order", args=[order.number]) in html


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client_logged, tee):
    # given
    order = place([(tee, 1)])
    # when
    add = admin_client_logged.get(reverse("admin:orders_order_add"))
    delete = admin_client_logged.post(reverse("admin:orders_order_delete", args=[order.pk]))
    # then
    assert (add.status_code, delete.status_code) == (403, 403)
    assert Order.objects.filter(pk=order.pk).exists()


def test_the_cancel_action_asks_for_a_reason_first(admin_client_logged, tee):
    # given
    order = place([(tee, 2)])
    # when
    response = admin_client_logged.post(
        CHANGELIST, {"action": "cancel_orders", ACTION_CHECKBOX_NAME: [order.pk]}
    )
    # then
    assert response.status_code == 200
    assert b'name="reason"' in response.content and b'name="apply"' in response.content
    order.refresh_from_db()
    assert order.status == "allocated"


def test_the_cancel_action_cancels_through_the_service(admin_client_logged, tee, staff_user):
    # given
    order = place([(tee, 2)])
    shipped = place([(tee, 1)])
    fulfilment_ship(
        fulfilment_id=Fulfilment.objects.get(order=shipped).pk, carrier="UPS", tracking_number="1"
    )
    # when
    response = admin_client_logged.post(
        CHANGELIST,
        {
            "action": "cancel_orders",
            ACTION_CHECKBOX_NAME: [order.pk, shipped.pk],
            "apply": "yes",
            "reason": "customer called",
        },
        follow=True,
    )
    # then
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]]
    assert "1 order(s) cancelled." in said
    assert any("can no longer be cancelled" in m for m in said)
    order.refresh_from_db()
    shipped.refresh_from_db()
    assert (order.status, shipped.status) == ("cancelled", "shipped")
    event = OrderEvent.objects.get(order=order, kind="cancelled")
    assert (event.actor, event.message) == (staff_user, "Order cancelled.")
    assert event.data == {"reason": "customer called"}
    assert StockLevel.objects.get(product=tee).allocated == 0


def test_the_resource_action_sources_a_backorder_again(admin_client_logged):
    # given
    tee = product("TEE-1")
    order = place([(tee, 2)])
    stocked(tee, warehouse("DC-LYON", lat=45.76, lon=4.84), 5)
    # when
    response = admin_client_logged.post(
        CHANGELIST, {"action": "resource_orders", ACTION_CHECKBOX_NAME: [order.pk]}, follow=True
    )
    # then
    assert "1 order(s) sourced again." in [str(m) for m in response.context["messages"]]
    order.refresh_from_db()
    assert order.status == "allocated"


def test_staff_without_the_change_permission_see_no_actions(client, tee):
    # given
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)
    order = place([(tee, 1)])
    # when
    page = client.get(CHANGELIST)
    attempt = client.post(
        CHANGELIST,
        {"action": "cancel_orders", ACTION_CHECKBOX_NAME: [order.pk], "apply": "yes"},
    )
    # then
    assert page.status_code == 200
    assert b"cancel_orders" not in page.content
    assert attempt.status_code in (200, 302)
    order.refresh_from_db()
    assert order.status == "allocated"


def test_the_channel_admin_edits_name_activity_locations_and_buffers(admin_client_logged):
    # given
    channel = Channel.objects.get(code="marketplace")
    dc = warehouse("DC-PARIS")
    url = reverse("admin:orders_channel_change", args=[channel.pk])
    # when
    page = admin_client_logged.get(url)
    response = admin_client_logged.post(
        url,
        {
            "code": "renamed",
            "name": "Marketplaces (EU)",
            "active": "",
            "locations": [dc.pk],
            "buffer_units": "2",
            "buffer_percent": "12.5",
            "return_days": "30",
            "exchange_shipping": "at_once",
        },
    )
    # then
    assert page.status_code == 200 and b"selectfilter" in page.content
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.code, channel.name, channel.active) == (
        "marketplace",
        "Marketplaces (EU)",
        False,
    )
    assert list(channel.locations.all()) == [dc]
    assert (channel.buffer_units, str(channel.buffer_percent)) == (2, "12.50")


def test_the_channel_changelist_lists_the_channels(admin_client_logged):
    # when
    response = admin_client_logged.get(reverse("admin:orders_channel_changelist"))
    # then
    assert response.status_code == 200
    assert {c.code for c in response.context["cl"].result_list} >= {
        "web",
        "app",
        "store",
        "marketplace",
    }
