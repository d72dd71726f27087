"""The floor's pages through their URLs: work queues with lines and bins, one button per
step, refusing some units, printed pick lists and packing slips, the pickup counter, nearby
stock and the endless aisle."""

import pytest
from django.urls import reverse

from fulfilment.models import Fulfilment
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services import stock_bin_set
from orders.models import Order
from orders.services.fulfilments import fulfilment_accept, fulfilment_ready
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db
FLOOR = reverse("oms_console:floor")
COUNTER = reverse("oms_console:floor-counter")
AISLE = reverse("oms_console:floor-order")


@pytest.fixture
def shop():
    tee, mug = product("TEE-1"), product("MUG-1")
    dc = warehouse("DC-PARIS")
    opera = StoreFactory(code="ST-OPERA", name="Opéra", lat=48.871, lon=2.332, ships=False)
    # Shipping from a store costs more than from the warehouse: orders go to the warehouse.
    bastille = StoreFactory(
        code="ST-BASTILLE", name="Bastille", lat=48.853, lon=2.369, shipment_cost="50.00"
    )
    lyon = StoreFactory(code="ST-LYON", name="Lyon", lat=45.76, lon=4.83, ships=False)
    for sku in (tee, mug):
        stocked(sku, dc, 20)
    stocked(tee, opera, 5)
    stocked(tee, bastille, 2)
    stocked(tee, lyon, 7)
    stock_bin_set(product=tee, location=dc, bin="B-02-1")
    stock_bin_set(product=mug, location=dc, bin="A-01-3")
    return {"tee": tee, "mug": mug, "dc": dc, "opera": opera, "bastille": bastille, "lyon": lyon}


@pytest.fixture
def picker(client, shop):
    client.force_login(person("picker", "warehouse staff", shop["dc"]))
    return client


@pytest.fixture
def clerk(client, shop):
    client.force_login(person("clerk", "store staff", shop["opera"]))
    return client


def test_the_floor_lists_each_request_with_sku_name_quantity_and_bin(picker, shop):
    # given
    order = place([(shop["tee"], 2), (shop["mug"], 1)])
    # when
    response = picker.get(FLOOR)
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-order="{order.number}"' in page
    assert "TEE-1" in page and "MUG-1" in page
    assert "bin B-02-1" in page and "bin A-01-3" in page
    assert "× 2" in page
    assert "floor-thumb" in page
    assert response.context["steps"][0]["requests"][0].order == order


def test_staff_see_only_their_own_locations_requests(client, shop):
    # given: an order sent to the warehouse; a clerk of a store
    place([(shop["tee"], 1)])
    client.force_login(person("clerk", "store staff", shop["opera"]))
    # when
    response = client.get(FLOOR, {"at": "DC-PARIS"})
    # then: the store's own floor, not the warehouse's
    assert response.context["location"] == shop["opera"]
    assert all(not step["requests"] for step in response.context["steps"])


def test_accept_then_ship_with_one_button_each(picker, shop):
    # given
    order = place([(shop["tee"], 1)])
    request = order.fulfilments.get()
    # when
    accepted = picker.post(reverse("oms_console:floor-act", args=[request.pk, "accept"]))
    shipped = picker.post(
        reverse("oms_console:floor-act", args=[request.pk, "ship"]),
        {"carrier": "UPS", "tracking_number": "1Z1"},
    )
    # then
    assert accepted.status_code == shipped.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.tracking_number) == ("shipped", "1Z1")


def test_shipping_without_a_tracking_number_says_so_and_changes_nothing(picker, shop):
    order = place([(shop["tee"], 1)])
    request = order.fulfilments.get()
    fulfilment_accept(fulfilment_id=request.pk)
    response = picker.post(
        reverse("oms_console:floor-act", args=[request.pk, "ship"]), {"carrier": "UPS"}, follow=True
    )
    assert "give its carrier and tracking number" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "accepted"


def test_a_request_of_another_location_cannot_be_acted_on(client, shop):
    order = place([(shop["tee"], 1)])
    client.force_login(person("clerk", "store staff", shop["opera"]))
    response = client.post(
        reverse("oms_console:floor-act", args=[order.fulfilments.get().pk, "accept"])
    )
    assert response.status_code == 404
    assert order.fulfilments.get().status == "requested"


def test_refusing_one_damaged_unit_from_the_floor(picker, shop):
    # given
    order = place([(shop["tee"], 3)])
    request = order.fulfilments.get()
    line = order.lines.get()
    url = reverse("oms_console:floor-reject", args=[request.pk])
    assert picker.get(url).status_code == 200
    # when
    response = picker.post(
        url, {f"refuse-{line.pk}": "1", "reason_code": "damaged", "reason": "crushed"}
    )
    # then
    assert response.status_code == 302
    assert StockMovement.objects.get(kind="damage").quantity == -1
    stock = StockLevel.objects.get(product=shop["tee"], location=shop["dc"])
    assert (stock.on_hand, stock.allocated) == (19, 2)
    assert order.fulfilments.exclude(pk=request.pk).get().location.kind == "store"
    assert stock_drift() == []


@pytest.mark.parametrize(
    ("units", "reason", "said"),
    [
        ("9", "x", "a number of units from 0 to 3"),
        ("0", "x", "Say how many units"),
        ("1", "", "Give a reason"),
    ],
)
def test_a_bad_refusal_is_answered_400_naming_the_problem(picker, shop, units, reason, said):
    order = place([(shop["tee"], 3)])
    request = order.fulfilments.get()
    response = picker.post(
        reverse("oms_console:floor-reject", args=[request.pk]),
        {f"refuse-{order.lines.get().pk}": units, "reason_code": "damaged", "reason": reason},
    )
    assert response.status_code == 400
    assert said in response.content.decode()
    assert not StockMovement.objects.filter(kind="damage").exists()
    assert StockLevel.objects.get(product=shop["tee"], location=shop["dc"]).allocated == 3


def test_the_pick_list_batches_orders_and_walks_the_bins_in_order(
    picker, shop, django_assert_max_num_queries
):
    # given: three accepted orders
    orders = [
        place([(shop["tee"], 1), (shop["mug"], 2)], email=f"p{i}@example.com") for i in range(3)
    ]
    for order in orders:
        fulfilment_accept(fulfilment_id=order.fulfilments.get().pk)
    ids = [order.fulfilments.get().pk for order in orders[:2]]
    # when
    with django_assert_max_num_queries(12):
        response = picker.get(
            reverse("oms_console:floor-pick-list"), {"at": "DC-PARIS", "ids": ids}
        )
    # then: the two ticked orders, mugs (bin A) before tees (bin B), one tote each
    assert response.status_code == 200
    lines = response.context["lines"]
    assert [(line.bin, line.sku, line.tote) for line in lines] == [
        ("A-01-3", "MUG-1", "A"),
        ("A-01-3", "MUG-1", "B"),
        ("B-02-1", "TEE-1", "A"),
        ("B-02-1", "TEE-1", "B"),
    ]
    assert response.context["units"] == 6
    assert "@media print" in response.content.decode()


def test_packing_slips_one_per_parcel_with_the_address(picker, shop):
    order = place([(shop["tee"], 2)])
    fulfilment_accept(fulfilment_id=order.fulfilments.get().pk)
    response = picker.get(
        reverse("oms_console:floor-packing-slips"),
        {"at": "DC-PARIS", "ids": str(order.fulfilments.get().pk)},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Order {order.number}" in page and "1 rue de Rivoli" in page
    assert "break-after: page" in page


@pytest.fixture
def waiting(shop):
    order = place(
        [(shop["tee"], 1)],
        email="grace@example.com",
        delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
        pickup_location=shop["opera"],
    )
    fulfilment_ready(fulfilment_id=order.fulfilments.get().pk)
    order.refresh_from_db()
    return order


def test_the_counter_finds_the_parcel_by_its_code_and_hands_it_over(clerk, waiting):
    # when: the code is scanned (small letters, a space)
    typed = f"{waiting.pickup_code[:3].lower()} {waiting.pickup_code[3:]}"
    found = clerk.get(COUNTER, {"code": typed})
    handed = clerk.post(COUNTER, {"order": waiting.number, "code": typed})
    # then
    assert found.status_code == 200 and found.context["order"] == waiting
    assert handed.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == Order.Status.COLLECTED


def test_a_wrong_code_at_the_counter_hands_nothing_over(clerk, waiting):
    found = clerk.get(COUNTER, {"code": "ZZZZZZ"})
    refused = clerk.post(COUNTER, {"order": waiting.number, "code": "ZZZZZZ"}, follow=True)
    assert found.status_code == 404
    assert "not the pickup code" in refused.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Order.Status.READY_FOR_PICKUP


def test_collection_by_someone_else_needs_and_records_their_name(clerk, waiting):
    # given
    code = waiting.pickup_code
    # when: ticked without a name, then with one
    nameless = clerk.post(
        COUNTER, {"order": waiting.number, "code": code, "someone_else": "1"}, follow=True
    )
    named = clerk.post(
        COUNTER,
        {"order": waiting.number, "code": code, "someone_else": "1", "collected_by": "Ada's son"},
    )
    # then
    assert "Name the person collecting" in nameless.content.decode()
    assert named.status_code == 302
    request = Fulfilment.objects.get(order=waiting)
    assert (request.status, request.collected_by) == ("collected", "Ada's son")


def test_another_store_cannot_hand_over_the_parcel(client, shop, waiting):
    client.force_login(person("other", "store staff", shop["bastille"]))
    response = client.post(COUNTER, {"order": waiting.number, "code": waiting.pickup_code})
    assert response.status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == Order.Status.READY_FOR_PICKUP


def test_nearby_stores_are_listed_nearest_first_with_what_they_can_sell(clerk, shop):
    response = clerk.get(reverse("oms_console:floor-stock", args=["tee-1"]))
    assert response.status_code == 200
    nearby = response.context["nearby"]
    assert [near.location.code for near in nearby] == ["ST-BASTILLE", "ST-LYON"]
    assert [near.available for near in nearby] == [2, 7]
    assert nearby[0].km < 5 < 300 < nearby[1].km
    assert response.context["here"].available == 5


def test_an_order_for_a_customer_in_the_store_collected_at_another_store(clerk, shop):
    # given
    form = {
        "sku": "TEE-1",
        "quantity": "2",
        "delivery": "collect",
        "pickup_store": "ST-BASTILLE",
        "name": "Grace Hopper",
        "email": "Grace@Example.com",
        "token": "abc123",
    }
    # when: the button is pressed twice
    first = clerk.post(AISLE, form)
    second = clerk.post(AISLE, form)
    # then: one order, on the store channel, sourced at the pickup store
    assert first.status_code == second.status_code == 200
    order = Order.objects.get()
    assert first.context["placed"] == second.context["placed"] == order
    assert (order.channel.code, order.delivery_method) == ("store", "click_and_collect")
    assert order.pickup_location == shop["bastille"]
    assert order.customer_email == "grace@example.com"
    assert StockLevel.objects.get(product=shop["tee"], location=shop["bastille"]).allocated == 2


def test_an_order_shipped_home_from_the_store(clerk, shop):
    response = clerk.post(
        AISLE,
        {
            "sku": "MUG-1",
            "quantity": "1",
            "delivery": "home",
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "line1": "3 rue de la Paix",
            "postcode": "75002",
            "city": "Paris",
            "country": "fr",
            "token": "t1",
        },
    )
    assert response.status_code == 200
    order = response.context["placed"]
    assert (order.delivery_method, order.ship_country, order.status) == (
        "standard",
        "FR",
        "allocated",
    )
    assert order.fulfilments.get().location == shop["dc"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sku": "NOPE"}, "sku"),
        ({"quantity": "0"}, "quantity"),
        ({"delivery": "collect"}, "pickup_store"),
        ({"line1": ""}, "line1"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_a_bad_aisle_order_names_the_field_and_places_nothing(clerk, shop, change, field):
    form = {
        "sku": "MUG-1",
        "quantity": "1",
        "delivery": "home",
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "line1": "3 rue de la Paix",
        "postcode": "75002",
        "city": "Paris",
        "country": "FR",
        "token": "t1",
        **change,
    }
    response = clerk.post(AISLE, form)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Order.objects.exists()


def test_warehouse_staff_cannot_place_orders(picker):
    assert picker.get(AISLE).status_code == 403


def test_the_product_stock_page_links_to_the_nearby_stores(clerk, shop):
    response = clerk.get(reverse("console:product-stock", args=["TEE-1"]))
    assert response.status_code == 200
    assert reverse("oms_console:floor-stock", args=["TEE-1"]) in response.content.decode()


def test_the_floor_page_costs_the_same_queries_for_many_orders(
    picker, shop, django_assert_max_num_queries
):
    # given: twenty orders in each of the first two steps
    for sku in (shop["tee"], shop["mug"]):
        stocked(sku, shop["dc"], 100)
    for i in range(40):
        order = place([(shop["tee"], 1), (shop["mug"], 1)], email=f"q{i}@example.com")
        if i % 2:
            fulfilment_accept(fulfilment_id=order.fulfilments.get().pk)
    # when
    with django_assert_max_num_queries(14):
        response = picker.get(FLOOR)
    # then
    assert [len(step["requests"]) for step in response.context["steps"]] == [20, 20, 0]
    assert response.content.decode().count('class="floor-sku"') == 80
