"""GET /api/v1/orders/{number}/ and GET /api/v1/orders/ with its filters."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.api.serializers import OrderDetailOutputSerializer, OrderOutputSerializer
from orders.models import Order
from orders.services.lifecycle import order_note_add
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db

LIST = reverse("orders")


def detail(number: str) -> str:
    return reverse("order-detail", args=[number])


@pytest.fixture
def tee():
    tee = product("TEE-1")
    stocked(tee, warehouse("DC-PARIS"), 100)
    return tee


def test_it_shows_an_order_with_its_whole_timeline(api, tee, staff_user):
    # given
    order = place([(tee, 2)], external_id="W-1")
    order_note_add(order=order, text="Customer called about the colour.", actor=staff_user)
    # when
    response = api.get(detail(order.number))
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["status"], body["external_id"]) == (
        order.number,
        "allocated",
        "W-1",
    )
    events = body["events"]
    assert [e["kind"] for e in events] == ["created", "allocated", "fulfilment_requested", "note"]
    note = events[-1]
    assert (note["message"], note["public"], note["actor"]) == (
        "Customer called about the colour.",
        False,
        "admin",
    )
    assert events[0]["public"] is True and events[0]["actor"] is None


def test_an_unknown_number_is_a_404(api):
    # when
    response = api.get(detail("NOPE23456"))
    # then
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("number", ["A" * 40, "bad%00num", "x y"])
def test_a_number_that_cannot_exist_is_a_404_not_a_500(api, number):
    # when
    response = api.get(f"/api/v1/orders/{number}/")
    # then
    assert response.status_code == 404


def test_reading_needs_a_token(anonymous_api, tee):
    # given
    order = place([(tee, 1)])
    # when
    responses = [anonymous_api.get(detail(order.number)), anonymous_api.get(LIST)]
    # then
    assert [r.status_code for r in responses] == [401, 401]


def test_the_detail_costs_the_same_few_queries_however_big_the_order(
    api, tee, django_assert_max_num_queries
):
    # given
    others = [product(f"SKU-{i}") for i in range(8)]
    for sku in others:
        stocked(sku, warehouse("DC-LYON", lat=45.76, lon=4.84), 3)
    order = place([(tee, 1), *[(sku, 2) for sku in others]])
    # when
    with django_assert_max_num_queries(8):
        response = api.get(detail(order.number))
    # then
    assert response.status_code == 200
    assert len(response.json()["lines"]) == 9
    assert len(response.json()["allocations"]) >= 9


def test_the_list_is_paginated_newest_first(api, tee):
    # given
    numbers = [place([(tee, 1)]).number for _ in range(3)]
    # when
    first = api.get(LIST, {"page_size": 2})
    second = api.get(first.json()["next"])
    # then
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 3 and body["previous"] is None
    listed = [o["number"] for o in body["results"]] + [
        o["number"] for o in second.json()["results"]
    ]
    assert listed == numbers[::-1]
    assert "events" not in body["results"][0]


def test_the_list_costs_a_fixed_number_of_queries(api, tee, django_assert_max_num_queries):
    # given
    for _ in range(12):
        place([(tee, 1)])
    # when
    with django_assert_max_num_queries(8):
        response = api.get(LIST)
    # then
    assert response.json()["count"] == 12


def test_the_list_filters_by_status_and_channel(api, tee):
    # given
    web = place([(tee, 1)])
    app = place([(tee, 1)], channel="app")
    waiting = place([(product("RARE"), 1)])
    # when
    by_status = api.get(LIST, {"status": "backordered"})
    by_two = api.get(f"{LIST}?status=backordered&status=allocated&channel=web")
    by_channel = api.get(LIST, {"channel": "app"})
    # then
    assert [o["number"] for o in by_status.json()["results"]] == [waiting.number]
    assert {o["number"] for o in by_two.json()["results"]} == {web.number, waiting.number}
    assert [o["number"] for o in by_channel.json()["results"]] == [app.number]


def test_the_list_finds_an_email_in_any_case(api, tee):
    # given
    ada = place([(tee, 1)], email="ada@example.com")
    place([(tee, 1)], email="bob@example.com")
    # when
    response = api.get(LIST, {"email": " Ada@EXAMPLE.com "})
    # then
    assert [o["number"] for o in response.json()["results"]] == [ada.number]


def test_the_list_filters_by_creation_time(api, tee):
    # given
    old = place([(tee, 1)])
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = place([(tee, 1)])
    since = (timezone.now() - timedelta(days=1)).isoformat()
    # when
    after = api.get(LIST, {"created_after": since})
    before = api.get(LIST, {"created_before": since})
    # then
    assert [o["number"] for o in after.json()["results"]] == [new.number]
    assert [o["number"] for o in before.json()["results"]] == [old.number]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"status": "lost"}, "status"), ({"created_after": "yesterday"}, "created_after")],
)
def test_a_bad_filter_is_a_400_naming_it(api, query, field):
    # when
    response = api.get(LIST, query)
    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_page_size_above_500_is_capped(api, tee):
    # given
    place([(tee, 1)])
    # when
    response = api.get(LIST, {"page_size": 10_000})
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1


def _declared(serializer) -> dict:
    """Return the fields a serializer declares, nested ones as dicts of theirs."""
    fields = {}
    for name, field in serializer.fields.items():
        child = getattr(field, "child", field)
        fields[name] = _declared(child) if hasattr(child, "fields") else None
    return fields


def _answered(value):
    if isinstance(value, list):
        return _answered(value[0]) if value else None
    if isinstance(value, dict):
        return {key: _answered(item) for key, item in value.items()}
    return None


def test_the_answer_has_exactly_the_fields_the_schema_declares(api, tee, staff_user):
    # given: an order with something in every list
    order = place([(tee, 2)])
    order_note_add(order=order, text="Called.", actor=staff_user)
    # when
    shown = api.get(detail(order.number)).json()
    listed = api.get(LIST).json()["results"][0]
    # then
    assert _answered(shown) == _declared(OrderDetailOutputSerializer())
    assert _answered(listed) == _declared(OrderOutputSerializer())
