"""Finding customers from the console: part of a name, e-mail or phone, external id,
tracking number (orders.search, /console/orders/?q=)."""

import pytest
from django.db import connection
from django.urls import reverse

from accounts.roles import STORE_STAFF
from fulfilment.models import Fulfilment
from orders.inputs import LineInput, OrderInput
from orders.models import Channel, Order
from orders.search import order_search
from orders.services.capture import order_place
from orders.services.fulfilments import fulfilment_ship
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import product, stocked, warehouse

pytestmark = pytest.mark.django_db
FIND = "orders_console:find"


def customer_order(tee, name: str, email: str, phone: str, external_id: str = "") -> Order:
    order, _ = order_place(
        data=OrderInput(
            channel=Channel.objects.get(code="web"),
            lines=[LineInput(product=tee, quantity=1)],
            external_id=external_id,
            email=email,
            name=name,
            phone=phone,
            address={
                "line1": "1 rue de Rivoli",
                "city": "Paris",
                "postcode": "75001",
                "country": "FR",
                "lat": 48.86,
                "lon": 2.35,
            },
        )
    )
    return order


@pytest.fixture
def tee():
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS"), 50)
    return tee


@pytest.fixture
def people(tee):
    return {
        "ada": customer_order(tee, "Ada Lovelace", "ada.lovelace@example.com", "+33 6 12 34 56 78"),
        "grace": customer_order(
            tee, "Grace Hopper", "g.hopper@navy.example", "01 45 67 89 10", external_id="SHOP-7781"
        ),
        "alan": customer_order(tee, "Alan Turing", "alan@bletchley.example", "+44 20 7946 0000"),
    }


def found(client, term: str) -> list[str]:
    response = client.get(reverse(FIND), {"q": term})
    assert response.status_code == 200
    return [order.number for order in response.context["result"].orders]


@pytest.mark.parametrize(
    ("term", "who"),
    [
        ("lovelace", "ada"),
        ("LOVEL", "ada"),
        ("Hopp", "grace"),
        ("ada.love", "ada"),
        ("navy.exa", "grace"),
        ("bletchley", "alan"),
        ("3456", "ada"),
        ("06 12 34", "ada"),
        ("7946", "alan"),
        ("SHOP-7781", "grace"),
    ],
)
def test_it_finds_a_customer_by_part_of_name_email_or_phone_and_by_external_id(
    admin_client_logged, people, term, who
):
    # when
    numbers = found(admin_client_logged, term)
    # then
    assert numbers == [people[who].number]


def test_it_finds_an_order_by_its_tracking_number(admin_client_logged, people):
    # given
    fulfilment = Fulfilment.objects.get(order=people["grace"])
    fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="colissimo", tracking_number="6A1234567")
    # when
    numbers = found(admin_client_logged, "6A1234567")
    # then
    assert numbers == [people["grace"].number]


def test_the_results_link_each_order_page_and_show_the_customer(admin_client_logged, people):
    # when
    response = admin_client_logged.get(reverse(FIND), {"q": "lovelace"})
    # then
    html = response.content.decode()
    assert reverse("orders_console:order", args=[people["ada"].number]) in html
    assert "Ada Lovelace" in html and "ada.lovelace@example.com" in html
    assert "Grace" not in html


def test_a_short_term_finds_whole_keys_only_and_says_why(admin_client_logged, people):
    # when
    response = admin_client_logged.get(reverse(FIND), {"q": "ad"})
    # then
    assert response.context["result"].orders == []
    assert "at least 3 characters" in response.content.decode()


@pytest.mark.parametrize("term", ["%", "%%%", "___", "a_a", "\\", "'; --", "é" * 200])
def test_wildcards_and_odd_input_match_literally_and_never_fail(admin_client_logged, people, term):
    # when
    numbers = found(admin_client_logged, term)
    # then
    assert numbers == []


def test_nothing_found_says_so(admin_client_logged, people):
    # when
    response = admin_client_logged.get(reverse(FIND), {"q": "Babbage"})
    # then
    assert response.context["result"].orders == []
    assert "Nothing matches" in response.content.decode()


def test_store_staff_find_only_orders_their_store_works_on(client, tee, people):
    # given
    store = StoreFactory(code="ST-LYON")
    clerk = person("clerk", STORE_STAFF, store)
    client.force_login(clerk)
    # when
    numbers = found(client, "lovelace")
    # then
    assert numbers == []


def test_the_newest_orders_come_first_and_the_list_is_capped(admin_client_logged, tee):
    # given
    orders = [
        customer_order(tee, f"Marie Curie {i}", f"marie{i}@example.com", "0102030405")
        for i in range(4)
    ]
    # when
    result = order_search(term="curie", user=admin_client_logged_user(), limit=3)
    # then
    assert [o.number for o in result.orders] == [o.number for o in orders[::-1][:3]]
    assert result.more


def admin_client_logged_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


@pytest.mark.postgres
def test_postgresql_answers_parts_from_the_trigram_indexes(people):
    # given: the unordered candidate queries orders.search sends first; a table this small
    # is read whole unless the planner is told not to, and never through a date index
    queryset = Order.objects.filter(customer_name__icontains="lovelace").order_by()
    email = Order.objects.filter(customer_email__icontains="love").order_by()
    phone = Order.objects.filter(customer_phone_digits__contains="3456").order_by()
    # when
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        plans = [qs.values("pk").explain() for qs in (queryset, email, phone)]
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    # then
    assert "order_name_trgm" in plans[0]
    assert "order_email_trgm" in plans[1]
    assert "order_phone_trgm" in plans[2]
