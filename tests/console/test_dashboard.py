"""The console's home dashboard (/console/): sections per role, numbers per location."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console.selectors.stock import SNAPSHOT_KEY
from fulfilment.models import Fulfilment
from orders.models import Channel, Order
from orders.services.fulfilments import fulfilment_accept, fulfilment_ship
from orders.services.reservations import ReservedLine, reservation_create
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("oms_console:dashboard")


@pytest.fixture
def network():
    tee, mug = product("TEE-1"), product("MUG-1")
    paris = warehouse("DC-PARIS")
    lyon = warehouse("DC-LYON", lat=45.76, lon=4.84)
    stocked(tee, paris, 10)
    stocked(mug, lyon, 1)
    return {"tee": tee, "mug": mug, "paris": paris, "lyon": lyon}


def test_it_needs_a_staff_login(client):
    # when
    response = client.get(DASHBOARD)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_shows_todays_orders_costs_lead_times_stock_and_queues_to_a_manager(
    admin_client_logged, network, django_assert_max_num_queries
):
    # given: two orders today, one shipped
    shipped = place([(network["tee"], 2)], email="a@example.com")
    place([(network["tee"], 1)], channel="app", email="b@example.com")
    fulfilment = Fulfilment.objects.get(order=shipped)
    fulfilment_accept(fulfilment_id=fulfilment.pk)
    fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="UPS", tracking_number="1Z1")
    # when: a fixed number whatever the data (five of them the network's return figures)
    with django_assert_max_num_queries(30):
        response = admin_client_logged.get(DASHBOARD)
    # then
    assert response.status_code == 200
    today = response.context["today"]
    assert today["total"] == 2
    assert {row["label"] for row in today["chart"]["rows"]} == {"Website", "Mobile app"}
    assert response.context["lead"]["shipped"] == 1
    assert response.context["costs"]["today"]["orders"] == 2
    assert [row["code"] for row in response.context["costs"]["locations"]] == ["DC-PARIS"]
    stock = response.context["stock"]
    assert {row["code"] for row in stock["locations"]} == {"DC-PARIS", "DC-LYON"}
    assert stock["on_hand"] == 11 - 2  # two units left Paris
    counts = {item["queue"].slug: item["count"] for item in response.context["queues"]}
    assert counts["to-accept"] == 1 and counts["to-ship"] == 0
    body = response.content.decode()
    assert "<svg" in body and "Orders today" in body and "Promises at risk" in body


def test_a_store_person_sees_their_store_only(client, network, django_assert_max_num_queries):
    # given: a pickup at the store, and an order the warehouse ships
    store = StoreFactory(code="ST-OPERA", click_and_collect=True)
    stocked(network["tee"], store, 5)
    pickup = place(
        [(network["tee"], 1)],
        delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
        pickup_location=store,
    )
    place([(network["mug"], 1)])  # sourced from Lyon: not the store's business
    clerk = person("clerk", "store staff", store)
    client.force_login(clerk)
    # when
    with django_assert_max_num_queries(30):
        response = client.get(DASHBOARD)
    # then
    assert response.status_code == 200
    assert response.context["today"]["total"] == 1
    assert [f.order for f in response.context["to_accept"]] == [pickup]
    assert [row["code"] for row in response.context["stock"]["locations"]] == ["ST-OPERA"]
    assert {row.product.sku for row in response.context["low_stock"]} == set()
    counts = {item["queue"].slug: item["count"] for item in response.context["queues"]}
    assert counts["to-accept"] == 1
    assert "customer-service" in counts  # store staff read orders; the queue is theirs only
    assert "DC-LYON" not in response.content.decode()


def test_low_stock_lists_what_a_store_is_about_to_run_out_of(client, network):
    # given
    store = StoreFactory(code="ST-OPERA")
    stocked(network["tee"], store, 1)
    stocked(network["mug"], store, 30)
    client.force_login(person("clerk", "store staff", store))
    # when
    response = client.get(DASHBOARD)
    # then
    assert [row.product.sku for row in response.context["low_stock"]] == ["TEE-1"]


def test_the_network_stock_comes_from_a_snapshot_the_task_refreshes(admin_client_logged, network):
    # given: the snapshot was taken, then stock arrived
    from django.core.cache import cache

    from console.tasks import stock_snapshot_refresh_task

    stock_snapshot_refresh_task()
    stocked(network["tee"], network["lyon"], 4)
    # when
    before = admin_client_logged.get(DASHBOARD).context["stock"]["on_hand"]
    stock_snapshot_refresh_task()
    after = admin_client_logged.get(DASHBOARD).context["stock"]["on_hand"]
    # then
    assert (before, after) == (11, 15)
    assert cache.get(SNAPSHOT_KEY)["locations"]


def test_customer_service_sees_orders_but_no_stock(client, network):
    # given
    place([(network["tee"], 1)])
    client.force_login(person("agent", "customer service"))
    # when
    response = client.get(DASHBOARD)
    # then
    assert response.status_code == 200
    assert response.context["today"]["total"] == 1
    assert response.context.get("low_stock") is None


def test_late_and_at_risk_promises_are_counted_and_listed(admin_client_logged, network):
    # given: one order promised yesterday and still open, one promised next week
    from datetime import timedelta

    from django.utils import timezone

    late = place([(network["tee"], 1)])
    later = place([(network["tee"], 1)])
    today = timezone.localdate()
    Order.objects.filter(pk=late.pk).update(promised_date=today - timedelta(days=1))
    Order.objects.filter(pk=later.pk).update(promised_date=today + timedelta(days=7))
    # when
    at_risk = admin_client_logged.get(DASHBOARD).context["at_risk"]
    # then
    assert (at_risk["late"], at_risk["at_risk"]) == (1, 1)
    assert at_risk["orders"] == [late]


def test_open_alerts_are_those_of_the_persons_locations(client, network):
    # given
    from django.utils import timezone

    from alerts.models import Alert

    store = StoreFactory(code="ST-OPERA")
    for place_, subject in ((store, "a"), (network["paris"], "b")):
        Alert.objects.create(
            kind=Alert.Kind.LOW_STOCK, subject=subject, location=place_, opened_at=timezone.now()
        )
    client.force_login(person("clerk", "store staff", store))
    # when
    alerts = client.get(DASHBOARD).context["alerts"]
    # then
    assert (alerts["open"], alerts["total"]) == (1, 1)


def test_costs_by_location_sum_every_part_of_todays_decisions_and_skip_malformed_ones(
    admin_client_logged, network
):
    # given: an order sourced from Paris, then two more decisions on it, one half malformed
    order = place([(network["tee"], 1)], email="a@example.com")
    paris = Order.objects.get(pk=order.pk).events.get(kind="allocated").data["explanation"]
    paris_cost = sum(part["total"] for part in paris["locations"] if part["location"] == "DC-PARIS")
    lyon = {"location": "DC-LYON", "total": 2.5, "units": 3}
    order.events.create(
        kind="allocated", data={"explanation": {"locations": [lyon, "not a part", lyon]}}
    )
    order.events.create(kind="allocated", data={"explanation": {"locations": "not a list"}})
    # when
    response = admin_client_logged.get(DASHBOARD)
    # then: the same sums from PostgreSQL's query as from the Python fallback
    rows = {row["code"]: row for row in response.context["costs"]["locations"]}
    assert set(rows) == {"DC-PARIS", "DC-LYON"}
    assert (rows["DC-LYON"]["cost"], rows["DC-LYON"]["units"]) == (5, 6)
    assert rows["DC-LYON"]["shipments"] == 2
    assert float(rows["DC-PARIS"]["cost"]) == pytest.approx(float(paris_cost))
    assert "DC-LYON" in response.content.decode()


def test_lead_times_are_told_by_day_of_shipping(admin_client_logged, network):
    # given: one request shipped today
    order = place([(network["tee"], 1)], email="a@example.com")
    fulfilment = Fulfilment.objects.get(order=order)
    fulfilment_accept(fulfilment_id=fulfilment.pk)
    fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="UPS", tracking_number="1Z1")
    # when
    response = admin_client_logged.get(DASHBOARD)
    # then: one bar, today's
    lead = response.context["lead"]
    assert lead["shipped"] == 1
    assert lead["median"] == pytest.approx(0, abs=0.1)
    today = timezone.localdate()
    assert [row["label"] for row in lead["chart"]["rows"]] == [f"{today:%a %d %b}"]


def test_stock_figures_count_expired_reservations_as_sellable(client, network):
    # given: a store's 3 mugs held by a reservation whose time has passed (not yet swept)
    store = StoreFactory(code="ST-HELD")
    stocked(network["mug"], store, 3)
    reservation = reservation_create(
        channel=Channel.objects.get(code="web"),
        lines=[ReservedLine(network["mug"], 3)],
        pickup_location=store,
        minutes=15,
    )
    reservation.lines.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(person("clerk", "store staff", store))
    # when
    response = client.get(DASHBOARD)
    # then: the 3 units are available and the mug is not low
    stock = response.context["stock"]
    assert (stock["available"], stock["percent"]) == (3, 100.0)
    assert response.context["low_stock"] == []
