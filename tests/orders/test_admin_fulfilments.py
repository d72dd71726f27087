"""Fulfilments in the admin: a location's queue, search, and each action through services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from fulfilment.models import Fulfilment
from inventory.models import StockLevel, StockMovement
from orders.models import Order
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:fulfilment_fulfilment_changelist")


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def paris(tee):
    paris = warehouse("DC-PARIS")
    stocked(tee, paris, 20)
    return paris


def listed(response) -> set[int]:
    return {f.pk for f in response.context["cl"].result_list}


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_changelist_filters_by_status_and_location_in_a_few_queries(
    admin_client_logged, tee, paris, django_assert_max_num_queries
):
    # given
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(tee, lyon, 5)
    place([(tee, 1)])
    place([(tee, 1)], at=(45.75, 4.85))
    at_lyon = Fulfilment.objects.get(location=lyon)
    # when
    with django_assert_max_num_queries(12):
        everything = admin_client_logged.get(CHANGELIST)
    by_location = admin_client_logged.get(CHANGELIST, {"location__id__exact": lyon.pk})
    by_status = admin_client_logged.get(CHANGELIST, {"status__exact": "accepted"})
    # then
    assert everything.status_code == 200
    assert len(listed(everything)) == 2
    assert listed(by_location) == {at_lyon.pk}
    assert listed(by_status) == set()


def test_the_search_finds_by_tracking_number_or_order_number(admin_client_logged, tee, paris):
    # given
    order = place([(tee, 1)])
    other = place([(tee, 1)])
    fulfilment = Fulfilment.objects.get(order=order)
    admin_client_logged.post(
        CHANGELIST,
        {
            "action": "ship",
            ACTION_CHECKBOX_NAME: [fulfilment.pk],
            "apply": "yes",
            f"f{fulfilment.pk}-carrier": "UPS",
            f"f{fulfilment.pk}-tracking_number": "1Z999",
        },
    )
    # when
    by_tracking = admin_client_logged.get(CHANGELIST, {"q": "1Z999"})
    by_number = admin_client_logged.get(CHANGELIST, {"q": other.number.lower()})
    # then
    assert listed(by_tracking) == {fulfilment.pk}
    assert listed(by_number) == {Fulfilment.objects.get(order=other).pk}


def test_the_accept_action_accepts_through_the_service(admin_client_logged, tee, paris):
    # given
    place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    response = admin_client_logged.post(
        CHANGELIST, {"action": "accept", ACTION_CHECKBOX_NAME: [fulfilment.pk]}, follow=True
    )
    # then
    assert "1 fulfilment(s) accepted." in said(response)
    assert Fulfilment.objects.get().status == "accepted"


def test_the_ship_action_asks_each_tracking_number_then_ships(admin_client_logged, tee, paris):
    # given
    place([(tee, 2)])
    place([(tee, 3)])
    first, second = Fulfilment.objects.order_by("pk")
    selected = {"action": "ship", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}
    # when
    asked = admin_client_logged.post(CHANGELIST, selected)
    incomplete = admin_client_logged.post(
        CHANGELIST,
        {
            **selected,
            "apply": "yes",
            f"f{first.pk}-carrier": "UPS",
            f"f{first.pk}-tracking_number": "A",
        },
    )
    shipped = admin_client_logged.post(
        CHANGELIST,
        {
            **selected,
            "apply": "yes",
            f"f{first.pk}-carrier": "UPS",
            f"f{first.pk}-tracking_number": "A1",
            f"f{second.pk}-carrier": "DHL",
            f"f{second.pk}-tracking_number": "B2",
        },
        follow=True,
    )
    # then
    assert asked.status_code == 200 and f"f{second.pk}-tracking_number".encode() in asked.content
    assert incomplete.status_code == 200 and b"This field is required" in incomplete.content
    assert "2 fulfilment(s) shipped." in said(shipped)
    assert {(f.carrier, f.tracking_number, f.status) for f in Fulfilment.objects.all()} == {
        ("UPS", "A1", "shipped"),
        ("DHL", "B2", "shipped"),
    }
    assert StockLevel.objects.get(product=tee, location=paris).on_hand == 15
    assert StockMovement.objects.filter(kind="shipment").count() == 2


def test_the_reject_action_asks_a_reason_then_sources_again(admin_client_logged, tee, paris):
    # given
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(tee, lyon, 5)
    order = place([(tee, 2)])
    fulfilment = Fulfilment.objects.get()
    selected = {"action": "reject", ACTION_CHECKBOX_NAME: [fulfilment.pk]}
    # when
    asked = admin_client_logged.post(CHANGELIST, selected)
    rejected = admin_client_logged.post(
        CHANGELIST,
        {**selected, "apply": "yes", "reason": "flooded", "reason_code": "damaged"},
        follow=True,
    )
    # then
    assert asked.status_code == 200 and b'name="reason_code"' in asked.content
    assert "1 fulfilment(s) rejected; their lines were sourced again." in said(rejected)
    fulfilment.refresh_from_db()
    assert (fulfilment.status, fulfilment.reason) == ("rejected", "flooded")
    assert Fulfilment.objects.get(order=order, status="requested").location == lyon
    assert StockLevel.objects.get(product=tee, location=paris).on_hand == 18  # written off


def test_ready_and_collected_actions_hand_a_pickup_over(admin_client_logged, tee):
    # given
    store = StoreFactory(code="ST-1")
    stocked(tee, store, 3)
    order = place([(tee, 1)], delivery_method="click_and_collect", pickup_location=store)
    fulfilment = Fulfilment.objects.get()
    # when
    too_early = admin_client_logged.post(
        CHANGELIST, {"action": "mark_collected", ACTION_CHECKBOX_NAME: [fulfilment.pk]}, follow=True
    )
    ready = admin_client_logged.post(
        CHANGELIST, {"action": "mark_ready", ACTION_CHECKBOX_NAME: [fulfilment.pk]}, follow=True
    )
    collected = admin_client_logged.post(
        CHANGELIST, {"action": "mark_collected", ACTION_CHECKBOX_NAME: [fulfilment.pk]}, follow=True
    )
    # then
    assert any("cannot become collected" in m for m in said(too_early))
    assert "1 fulfilment(s) marked ready for pickup." in said(ready)
    assert "1 fulfilment(s) collected." in said(collected)
    assert Order.objects.get(pk=order.pk).status == "collected"
    assert StockLevel.objects.get(product=tee, location=store).on_hand == 2


def test_the_change_page_is_read_only_and_links_the_order(admin_client_logged, tee, paris):
    # given
    order = place([(tee, 1)])
    fulfilment = Fulfilment.objects.get()
    # when
    response = admin_client_logged.get(
        reverse("admin:fulfilment_fulfilment_change", args=[fulfilment.pk])
    )
    # then
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert reverse("orders_console:order", args=[order.number]).encode() in response.content
