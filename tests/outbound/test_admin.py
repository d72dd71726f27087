"""The webhooks console: a subscription's deliveries, retry now and replay, health counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from outbox.models import Delivery, WebhookSubscription
from outbox.relay import outbox_relay
from outbox.selectors import outbox_health, subscriptions_with_dead_deliveries
from tests.outbound.helpers import an_order, subscribed

pytestmark = pytest.mark.django_db
DS = Delivery.Status
DELIVERIES = reverse("admin:outbox_delivery_changelist")


@pytest.fixture
def failing(receiver):
    """A subscription whose receiver answers 502, with its deliveries tried once."""
    receiver.status = 502
    subscription = subscribed(receiver.url)
    for sku in ("TEE-1", "TEE-2", "TEE-3"):
        an_order(sku)
    outbox_relay()
    return subscription


def test_the_deliveries_page_shows_status_attempts_answer_and_next_try(
    admin_client_logged, failing, django_assert_max_num_queries
):
    # when
    with django_assert_max_num_queries(12):
        page = admin_client_logged.get(DELIVERIES, {"subscription__id__exact": failing.pk})

    # then
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("Failed, will retry") >= 6
    assert "502" in text and "receiver exploded" in text
    assert "order.created" in text and "fulfilment.requested" in text


def test_the_subscription_list_links_to_its_deliveries_with_counts(admin_client_logged, failing):
    page = admin_client_logged.get(reverse("admin:outbox_webhooksubscription_changelist"))
    assert page.status_code == 200
    assert f"?subscription__id__exact={failing.pk}" in page.content.decode()
    assert failing.secret not in page.content.decode()


def test_retry_now_and_replay_act_on_the_chosen_deliveries(admin_client_logged, failing, receiver):
    # given
    chosen = list(Delivery.objects.order_by("id").values_list("id", flat=True)[:2])
    receiver.status = 200

    # when: retry now
    response = admin_client_logged.post(
        DELIVERIES, {"action": "retry_now", "_selected_action": chosen}, follow=True
    )
    outbox_relay()

    # then: those two were sent again, now, and delivered; the others still wait
    assert response.status_code == 200
    assert set(Delivery.objects.filter(status=DS.DELIVERED).values_list("id", flat=True)) == set(
        chosen
    )
    assert Delivery.objects.filter(status=DS.FAILED).count() == 4

    # when: replay a delivered one
    before = len(receiver.received)
    admin_client_logged.post(DELIVERIES, {"action": "replay", "_selected_action": chosen[:1]})
    outbox_relay()

    # then: the same event id once more
    assert len(receiver.received) == before + 1
    replayed = Delivery.objects.select_related("event").get(pk=chosen[0])
    assert receiver.received[-1].event_id == str(replayed.event.uid)


def test_health_counts_and_the_subscriptions_with_dead_deliveries(failing):
    # given
    Delivery.objects.filter(pk=Delivery.objects.order_by("id").first().pk).update(status=DS.DEAD)

    # when
    health = outbox_health()
    dead = list(subscriptions_with_dead_deliveries())

    # then
    assert health == {"pending": 0, "failed": 5, "dead": 1, "unrelayed": 0}
    assert dead == [failing] and dead[0].dead == 1


def test_a_subscription_made_in_the_admin_keeps_its_secret_when_edited(admin_client_logged):
    # given
    add = reverse("admin:outbox_webhooksubscription_add")
    admin_client_logged.post(
        add,
        {
            "url": "https://3pl.example.com/hooks",
            "events": ["fulfilment.requested"],
            "secret": "a-long-enough-secret-1",
            "active": "on",
        },
    )
    subscription = WebhookSubscription.objects.get()

    # when: edited without typing the secret
    change = reverse("admin:outbox_webhooksubscription_change", args=[subscription.pk])
    page = admin_client_logged.get(change)
    admin_client_logged.post(
        change,
        {
            "url": "https://3pl.example.com/hooks2",
            "events": ["fulfilment.requested", "fulfilment.cancelled"],
            "secret": "",
            "active": "on",
        },
    )

    # then
    assert "a-long-enough-secret-1" not in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.url == "https://3pl.example.com/hooks2"
    assert subscription.secret == "a-long-enough-secret-1"
    assert subscription.events == ["fulfilment.requested", "fulfilment.cancelled"]
