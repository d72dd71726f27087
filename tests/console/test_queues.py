"""Work queues (/console/queues/<slug>/): their rows per person, and their bulk actions."""

import pytest
from django.urls import reverse

from console.jobs import SYNC_MAX_ROWS
from console.models import BackgroundJob
from fulfilment.models import Fulfilment
from orders.models import Order
from orders.services.fulfilments import fulfilment_accept, fulfilment_ready
from tests.console.helpers import person
from tests.factories import StoreFactory
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def queue(slug: str) -> str:
    return reverse("oms_console:queue", args=[slug])


def act(slug: str) -> str:
    return reverse("oms_console:queue-act", args=[slug])


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def tee():
    return product("TEE-1")


@pytest.fixture
def paris(tee):
    paris = warehouse("DC-PARIS")
    stocked(tee, paris, 100)
    return paris


def test_to_accept_lists_requests_oldest_first_with_few_queries(
    admin_client_logged, tee, paris, django_assert_max_num_queries
):
    # given
    first, second = place([(tee, 1)]), place([(tee, 1)])
    # when
    with django_assert_max_num_queries(12):
        response = admin_client_logged.get(queue("to-accept"))
    # then
    assert response.status_code == 200
    assert [f.order for f in response.context["rows"]] == [first, second]


def test_a_store_person_sees_and_acts_on_their_store_only(client, tee, paris):
    # given: a store that does not ship parcels; the warehouse's order is not theirs
    store = StoreFactory(code="ST-OPERA", click_and_collect=True, ships=False)
    stocked(tee, store, 5)
    ours = place(
        [(tee, 1)], delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT, pickup_location=store
    )
    theirs = place([(tee, 1)])
    other = Fulfilment.objects.get(order=theirs)
    client.force_login(person("clerk", "store staff", store))
    # when
    listed = client.get(queue("to-accept"))
    client.post(act("to-accept"), {"action": "accept", "target": "selected", "ids": [other.pk]})
    # then
    assert [f.order for f in listed.context["rows"]] == [ours]
    other.refresh_from_db()
    assert other.status == Fulfilment.Status.REQUESTED  # not theirs: left untouched


def test_accept_then_ship_ticked_rows_with_their_tracking_numbers(admin_client_logged, tee, paris):
    # given
    orders = [place([(tee, 1)]) for _ in range(3)]
    ids = list(Fulfilment.objects.filter(order__in=orders).values_list("pk", flat=True))
    # when
    accepted = admin_client_logged.post(
        act("to-accept"), {"action": "accept", "target": "selected", "ids": ids}, follow=True
    )
    shipped = admin_client_logged.post(
        act("to-ship"),
        {
            "action": "ship",
            "target": "selected",
            "ids": ids,
            **{f"carrier-{pk}": "UPS" for pk in ids},
            **{f"tracking-{pk}": f"1Z{pk}" for pk in ids[:2]},
        },
        follow=True,
    )
    # then
    assert "Accept: done for 3 row(s)." in said(accepted)
    assert "Ship: done for 2 row(s)." in said(shipped)
    assert any("tracking number" in message for message in said(shipped))
    statuses = dict(Fulfilment.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["shipped", "shipped", "accepted"]
    assert Fulfilment.objects.get(pk=ids[0]).tracking_number == f"1Z{ids[0]}"


def test_ready_then_collected_from_the_queues(admin_client_logged, tee):
    # given
    store = StoreFactory(code="ST-OPERA", click_and_collect=True)
    stocked(tee, store, 5)
    order = place(
        [(tee, 1)], delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT, pickup_location=store
    )
    fulfilment = Fulfilment.objects.get(order=order)
    fulfilment_accept(fulfilment_id=fulfilment.pk)
    # when
    admin_client_logged.post(
        act("to-ship"), {"action": "ready", "target": "selected", "ids": [fulfilment.pk]}
    )
    waiting = admin_client_logged.get(queue("ready-for-pickup"))
    order.refresh_from_db()
    codeless = admin_client_logged.post(
        act("ready-for-pickup"),
        {"action": "collect", "target": "selected", "ids": [fulfilment.pk]},
        follow=True,
    )
    wrong = admin_client_logged.post(
        act("ready-for-pickup"),
        {
            "action": "collect",
            "target": "selected",
            "ids": [fulfilment.pk],
            f"code-{fulfilment.pk}": "ZZZZZZ",
        },
        follow=True,
    )
    fulfilment.refresh_from_db()
    assert fulfilment.status == Fulfilment.Status.READY_FOR_PICKUP
    admin_client_logged.post(
        act("ready-for-pickup"),
        {
            "action": "collect",
            "target": "selected",
            "ids": [fulfilment.pk],
            f"code-{fulfilment.pk}": order.pickup_code,
        },
    )
    # then
    assert [f.pk for f in waiting.context["rows"]] == [fulfilment.pk]
    assert "pickup code" in codeless.content.decode()
    assert "not the pickup code" in wrong.content.decode()
    fulfilment.refresh_from_db()
    order.refresh_from_db()
    assert fulfilment.status == Fulfilment.Status.COLLECTED
    assert order.status == Order.Status.COLLECTED


def test_reject_needs_a_reason(admin_client_logged, tee, paris):
    # given
    fulfilment = Fulfilment.objects.get(order=place([(tee, 1)]))
    # when
    response = admin_client_logged.post(
        act("to-accept"),
        {"action": "reject", "target": "selected", "ids": [fulfilment.pk], "reason": " "},
        follow=True,
    )
    # then
    assert "Reject: give a reason." in said(response)
    fulfilment.refresh_from_db()
    assert fulfilment.status == Fulfilment.Status.REQUESTED


def test_customer_service_cancels_an_order_from_its_queue(client, tee):
    # given: nothing in stock anywhere, so the order waits
    order = place([(tee, 1)])
    Order.objects.filter(pk=order.pk).update(needs_attention=True, attention_reason="No stock")
    client.force_login(person("agent", "customer service"))
    # when
    listed = client.get(queue("customer-service"), {"q": order.customer_email})
    response = client.post(
        act("customer-service"),
        {"action": "cancel", "target": "selected", "ids": [order.pk], "reason": "Asked by phone"},
        follow=True,
    )
    # then
    assert [o.pk for o in listed.context["rows"]] == [order.pk]
    assert "Cancel orders: done for 1 row(s)." in said(response)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_store_staff_may_not_cancel_orders(client, tee):
    # given
    store = StoreFactory(code="ST-OPERA")
    order = place([(tee, 1)])
    client.force_login(person("clerk", "store staff", store))
    # when
    response = client.post(
        act("backorders"), {"action": "cancel", "target": "selected", "ids": [order.pk]}
    )
    # then
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status != Order.Status.CANCELLED


def test_many_ticked_rows_become_a_background_job(admin_client_logged, tee, paris):
    # given
    ids = [Fulfilment.objects.get(order=place([(tee, 1)])).pk for _ in range(SYNC_MAX_ROWS + 1)]
    # when
    response = admin_client_logged.post(
        act("to-accept"), {"action": "accept", "target": "selected", "ids": ids}
    )
    # then
    job = BackgroundJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("oms_console:job", args=[job.pk])
    assert (job.status, job.action, sorted(job.params["ids"])) == ("queued", "accept", sorted(ids))
    assert Fulfilment.objects.filter(pk__in=ids, status="requested").count() == len(ids)


def test_the_ready_queue_filters_by_location(admin_client_logged, tee):
    # given
    opera = StoreFactory(code="ST-OPERA", click_and_collect=True)
    bastille = StoreFactory(code="ST-BASTILLE", click_and_collect=True)
    made = []
    for store in (opera, bastille):
        stocked(tee, store, 1)
        order = place(
            [(tee, 1)],
            delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
            pickup_location=store,
        )
        fulfilment = Fulfilment.objects.get(order=order)
        fulfilment_accept(fulfilment_id=fulfilment.pk)
        fulfilment_ready(fulfilment_id=fulfilment.pk)
        made.append(fulfilment.pk)
    # when
    response = admin_client_logged.get(queue("ready-for-pickup"), {"location": "ST-BASTILLE"})
    # then
    assert [f.pk for f in response.context["rows"]] == [made[1]]


def test_an_unknown_queue_is_a_404(admin_client_logged):
    assert admin_client_logged.get(queue("nope")).status_code == 404
