"""The order rules (fulfilment acceptance, promised dates, backorders), dead webhooks, drift."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alerts_evaluate_orders
from fulfilment.models import Fulfilment
from inventory.models import StockLevel
from orders.models import Order
from orders.services.fulfilments import fulfilment_accept
from outbox.models import Delivery, OutboxEvent, WebhookSubscription
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = pytest.mark.django_db


def kinds(kind):
    return list(Alert.objects.filter(kind=kind).order_by("id"))


def test_a_fulfilment_not_accepted_in_time_opens_an_alert_until_accepted():
    # given: a request made now; the policy allows 4 hours
    tee, paris = product("TEE"), warehouse("PARIS")
    stocked(tee, paris, 5)
    order = place([(tee, 1)])
    fulfilment = Fulfilment.objects.get(order=order)
    now = timezone.now()

    # when: three hours later, then five
    alerts_evaluate_orders(now=now + timedelta(hours=3))
    assert kinds(Alert.Kind.UNACCEPTED_FULFILMENT) == []
    alerts_evaluate_orders(now=now + timedelta(hours=5))

    # then
    (alert,) = kinds(Alert.Kind.UNACCEPTED_FULFILMENT)
    assert (alert.order_id, alert.location_id, alert.subject) == (
        order.pk,
        paris.pk,
        str(fulfilment.pk),
    )
    assert alert.details["limit_hours"] == 4 and alert.details["order"] == order.number

    # when: the location accepts
    fulfilment_accept(fulfilment_id=fulfilment.pk)
    alerts_evaluate_orders(now=now + timedelta(hours=6))

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_an_unshipped_order_due_today_is_late_and_clears_once_shipped_or_cancelled():
    # given
    tee, paris = product("TEE"), warehouse("PARIS")
    stocked(tee, paris, 5)
    due_today = place([(tee, 1)], external_id="A")
    due_later = place([(tee, 1)], external_id="B")
    today = timezone.localdate()
    Order.objects.filter(pk=due_today.pk).update(promised_date=today)
    Order.objects.filter(pk=due_later.pk).update(promised_date=today + timedelta(days=3))

    # when
    alerts_evaluate_orders()

    # then
    (alert,) = kinds(Alert.Kind.LATE_ORDER)
    assert (alert.order_id, alert.location_id) == (due_today.pk, paris.pk)
    assert alert.details["promised_date"] == today.isoformat()

    # when: it ships
    Order.objects.filter(pk=due_today.pk).update(status=Order.Status.SHIPPED)
    alerts_evaluate_orders()

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_the_late_order_rule_lists_what_the_order_pages_call_at_risk():
    # given: a backorder promised in 5 days (waiting for stock: at risk already), an
    # allocated order promised yesterday (late), one promised next week (fine)
    tee, mug, paris = product("TEE"), product("MUG"), warehouse("PARIS")
    stocked(mug, paris, 5)
    waiting = place([(tee, 1)], external_id="A")
    late = place([(mug, 1)], external_id="B")
    fine = place([(mug, 1)], external_id="C")
    today = timezone.localdate()
    for order, days in ((waiting, 5), (late, -1), (fine, 7)):
        Order.objects.filter(pk=order.pk).update(promised_date=today + timedelta(days=days))

    # when
    alerts_evaluate_orders()

    # then: the same orders as orders_at_risk, each saying whether it is already late
    from orders.selectors import orders_at_risk

    alerts = {a.order_id: a.details["late"] for a in kinds(Alert.Kind.LATE_ORDER)}
    assert alerts == {waiting.pk: False, late.pk: True}
    assert set(orders_at_risk().values_list("pk", flat=True)) == set(alerts)


def test_a_backorder_older_than_the_policy_opens_an_alert():
    # given: nothing in stock
    tee = product("TEE")
    warehouse("PARIS")
    order = place([(tee, 2)])
    assert order.status == Order.Status.BACKORDERED
    now = timezone.now()

    # when
    alerts_evaluate_orders(now=now + timedelta(days=2))
    assert kinds(Alert.Kind.BACKORDER) == []
    alerts_evaluate_orders(now=now + timedelta(days=4))

    # then
    (alert,) = kinds(Alert.Kind.BACKORDER)
    assert alert.order_id == order.pk and alert.details["limit_days"] == 3


def test_a_subscription_with_dead_deliveries_opens_an_alert_that_clears_after_a_week():
    # given
    paris = warehouse("PARIS")
    subscription = WebhookSubscription.objects.create(
        url="https://3pl.example/hook", secret="s" * 20, events=["stock.low"], location=paris
    )
    now = timezone.now()
    event = OutboxEvent.objects.create(event="stock.low", data={}, created_at=now)
    Delivery.objects.create(
        subscription=subscription,
        event=event,
        status=Delivery.Status.DEAD,
        attempts=12,
        next_try_at=now,
        horizon_at=now,
        last_attempt_at=now,
        created_at=now,
    )

    # when
    alerts_evaluate_orders(now=now)

    # then
    (alert,) = kinds(Alert.Kind.WEBHOOK_DEAD)
    assert (alert.subject, alert.location_id) == (str(subscription.pk), paris.pk)
    assert alert.details["dead_events"] == 1

    # when: eight days on, nothing died since
    alerts_evaluate_orders(now=now + timedelta(days=8))

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_stock_reconcile_opens_a_drift_alert_per_balance_and_resolves_it_when_fixed():
    # given: on hand moved behind the ledger's back
    tee, paris = product("TEE"), warehouse("PARIS")
    stock = stocked(tee, paris, 5)
    StockLevel.objects.filter(pk=stock.pk).update(on_hand=7)

    # when
    with pytest.raises(CommandError):
        call_command("stock_reconcile")

    # then
    (alert,) = kinds(Alert.Kind.STOCK_DRIFT)
    assert (alert.subject, alert.product_id, alert.location_id) == (
        f"{stock.pk}:on_hand",
        tee.pk,
        paris.pk,
    )
    assert alert.details == {"field": "on_hand", "recorded": 7, "expected": 5, "difference": 2}

    # when: repaired, and checked again
    StockLevel.objects.filter(pk=stock.pk).update(on_hand=5)
    call_command("stock_reconcile")

    # then
    alert.refresh_from_db()
    assert alert.status == "resolved"
