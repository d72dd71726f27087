"""seed_demo's story: past orders in every channel and status, open work, late orders,
alert rules with open alerts, webhook subscriptions; written once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, NetworkRule, StockRule
from fulfilment.models import Fulfilment
from inventory.models import StockLevel
from inventory.reconcile import stock_drift
from orders.models import Order, OrderEvent
from outbox.models import WebhookSubscription

pytestmark = pytest.mark.django_db
ARGS = ("--products", "60", "--history-days", "14")


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", *ARGS, stdout=out)
    return out.getvalue()


def _counts():
    return (
        dict(Order.objects.values_list("status").annotate(n=Count("id"))),
        Fulfilment.objects.count(),
        OrderEvent.objects.count(),
        Alert.objects.count(),
        WebhookSubscription.objects.count(),
        list(StockLevel.objects.order_by("pk").values_list("on_hand", "allocated")),
    )


def test_it_tells_a_story_in_every_channel_and_status():
    # when
    said = _seed()
    # then
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {"shipped", "delivered", "collected", "cancelled"} <= statuses
    assert statuses & {"backordered", "partially_allocated"}
    assert statuses & {"allocated", "ready_for_pickup"}
    channels = set(Order.objects.values_list("channel__code", flat=True))
    assert channels == {"web", "app", "store", "marketplace"}
    oldest = Order.objects.order_by("created_at").first().created_at
    assert (timezone.now() - oldest).days >= 13
    assert Order.objects.filter(created_at__date__gte=timezone.localdate()).exists()
    # every past order has its lines, its fulfilment and a timeline in order
    past = Order.objects.filter(external_id__startswith="DEMO-H-")
    assert not past.filter(lines__isnull=True).exists()
    assert not past.filter(fulfilments__isnull=True).exists()
    shipped = Fulfilment.objects.filter(order__in=past, status="shipped")
    assert not shipped.filter(tracking_number="").exists()
    order = past.filter(status="collected").first()
    kinds = list(order.events.order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["created", "allocated", "ready_for_pickup", "collected"]
    # late: an open order promised for yesterday
    late = Order.objects.filter(
        promised_date__lt=timezone.localdate(),
        status__in=["allocated", "partially_allocated", "backordered"],
    )
    assert late.exists()
    # Ada Lovelace is there to be found
    assert past.filter(customer_name="Ada Lovelace").exists()
    # alerts and webhooks
    assert StockRule.objects.exists() and NetworkRule.objects.exists()
    assert Alert.objects.filter(status="open").exists()
    assert Alert.objects.filter(kind="late_order").exists()
    assert WebhookSubscription.objects.count() == 2
    assert not WebhookSubscription.objects.filter(active=True).exists()
    # open orders went through the services: stock agrees with its ledger
    assert StockLevel.objects.filter(allocated__gt=0).exists()
    assert stock_drift() == []
    assert "past orders" in said and "alerts open" in said


def test_a_second_run_writes_nothing():
    # given
    _seed()
    before = _counts()
    # when
    said = _seed()
    # then
    assert "nothing changed" in said
    assert _counts() == before


def test_the_console_opens_on_the_story(admin_client_logged):
    # given
    _seed()
    # when
    dashboard = admin_client_logged.get(reverse("oms_console:dashboard"))
    alerts = admin_client_logged.get(reverse("alerts_console:list"))
    found = admin_client_logged.get(reverse("orders_console:find"), {"q": "lovelace"})
    # then
    assert dashboard.status_code == alerts.status_code == 200
    assert len(alerts.context["alerts"]) > 0
    assert found.context["result"].orders
