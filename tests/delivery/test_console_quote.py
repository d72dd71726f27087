"""The console's quote page: staff try a basket and a destination and see the options, and
why each method was or was not offered. Read only: nothing is held."""

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel
from orders.models import Reservation
from tests.delivery.conftest import CUSTOMER, day, paris

pytestmark = pytest.mark.django_db

URL = reverse("orders_console:quote")


def form(basket: str = "TEE 1\nMUG 1", **fields) -> dict:
    moment = timezone.localtime(paris(day(0), 10))  # Monday 10:00 in Paris
    return {
        "channel": "web",
        "basket": basket,
        "postcode": CUSTOMER["postcode"],
        "country": CUSTOMER["country"],
        "lat": str(CUSTOMER["lat"]),
        "lon": str(CUSTOMER["lon"]),
        "at": moment.strftime("%Y-%m-%d %H:%M"),
        **fields,
    }


def test_empty_quote_page_shows_the_form_only(admin_client_logged, net):
    # when
    response = admin_client_logged.get(URL)

    # then
    assert response.status_code == 200
    assert response.context["quote"] is None
    page = response.content.decode()
    assert 'name="basket"' in page and "Why each method" not in page


def test_a_basket_is_quoted_with_every_option_and_the_reasons(admin_client_logged, net):
    # when: Monday 10:00, a tee and a mug to central Paris
    response = admin_client_logged.get(URL, form())

    # then: same day from Rivoli, both shipped methods, pickup at the two Paris stores
    assert response.status_code == 200
    quote = response.context["quote"]
    offered = [(option.method, option.location) for option in quote.options]
    assert ("same_day", None) in offered
    assert ("express", None) in offered and ("standard", None) in offered
    assert [loc for method, loc in offered if method == "click_and_collect"] == [
        "ST-RIVOLI",
        "ST-OPERA",
    ]
    same_day = next(option for option in quote.options if option.method == "same_day")
    assert same_day.promised_date == day(0)
    refused = {(v.method, v.location): v.why for v in quote.verdicts if not v.offered}
    assert refused[("click_and_collect", "ST-LYON")].startswith("ST-LYON (")
    assert refused[("click_and_collect", "ST-LYON")].endswith("lacks 1 × MUG.")
    page = response.content.decode()
    assert "lacks 1 × MUG." in page
    assert "has the whole basket; before its cutoff (12:00 Europe/Paris)" in page
    assert "Paris Rivoli" in page


def test_quote_after_the_store_cutoff_says_so_and_holds_nothing(admin_client_logged, net):
    # given
    moment = timezone.localtime(paris(day(0), 13))  # past the stores' 12:00 cutoff
    reserved_before = list(StockLevel.objects.values_list("pk", "reserved", "allocated"))

    # when
    response = admin_client_logged.get(URL, form(at=moment.strftime("%Y-%m-%d %H:%M")))

    # then
    quote = response.context["quote"]
    verdicts = {(v.method, v.offered) for v in quote.verdicts}
    assert ("same_day", False) in verdicts
    pickup = [o for o in quote.options if o.method == "click_and_collect"]
    assert pickup and all(option.promised_date == day(1) for option in pickup)
    assert "past its cutoff" in response.content.decode()
    assert list(StockLevel.objects.values_list("pk", "reserved", "allocated")) == reserved_before
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"basket": "NOPE 1"}, "Unknown or inactive SKU: NOPE."),
        ({"basket": "TEE many"}, "Line 1: write a SKU and a quantity."),
        ({"basket": "TEE 0"}, "Line 1: 1 to"),
        ({"lon": ""}, "Give lat and lon together, or neither."),
    ],
    ids=["unknown-sku", "bad-quantity", "zero", "lat-without-lon"],
)
def test_nonsense_basket_shows_the_error_and_no_quote(admin_client_logged, net, fields, message):
    # when
    response = admin_client_logged.get(URL, form(**fields))

    # then
    assert response.status_code == 200
    assert response.context["quote"] is None
    assert message in response.content.decode()


def test_quote_page_is_for_staff_only_and_read_only(client, django_user_model, net):
    # when
    anonymous = client.get(URL, form())
    client.force_login(django_user_model.objects.create_user("clerk", password="pw-123456"))
    not_staff = client.get(URL, form())
    client.force_login(
        django_user_model.objects.create_user("cs", password="pw-123456", is_staff=True)
    )
    posted = client.post(URL, form())

    # then
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]
    assert not_staff.status_code == 302 and reverse("admin:login") in not_staff["Location"]
    assert posted.status_code == 405


def test_quote_page_query_count_is_pinned(admin_client_logged, net, django_assert_max_num_queries):
    # given: the delivery settings are loaded once per process, not per quote
    admin_client_logged.get(URL, form())

    # when / then: session, user, channel, products, the stock of the basket (one query for
    # every location), and the channel list the form's select shows (rendered twice by
    # Django's widget)
    with django_assert_max_num_queries(7):
        response = admin_client_logged.get(URL, form(basket="TEE 1\nMUG 1"))
    assert response.context["quote"].options
