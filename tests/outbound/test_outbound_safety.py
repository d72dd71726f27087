"""Webhooks reach public hosts only: at subscription and at every delivery, with no redirect
followed and the receiver's answer kept short and shown escaped (docs/api.md "Webhooks")."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outbox.models import Delivery, WebhookSubscription
from outbox.relay import outbox_relay
from outbox.transport import EXCERPT_BYTES, _pool, target
from tests.outbound.helpers import an_order, subscribed
from tests.outbound.receiver import Receiver

pytestmark = pytest.mark.django_db
DS = Delivery.Status
URL = reverse("webhooks")
SECRET = "s3cret-of-the-3pl-0042"


@pytest.fixture
def nothing_allowed(settings, monkeypatch):
    """The production default: no host is allowed beyond the public ones."""
    settings.OMS_OUTBOUND_ALLOWED_HOSTS = []
    monkeypatch.setenv("OMS_OUTBOUND_ALLOWED_HOSTS", "")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://127.0.0.1:5432/",
        "http://[::1]/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://user:pw@127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "http://localhost:6379/",
        "http://redis.internal.test:6379/",
    ],
)
def test_webhook_urls_to_internal_addresses_are_refused_at_subscription(
    api, resolver, nothing_allowed, url
):
    # given: a name that the resolver answers with loopback
    resolver["redis.internal.test"] = "127.0.0.1"

    # when
    response = api.post(
        URL, {"url": url, "secret": SECRET, "events": ["order.created"]}, format="json"
    )

    # then: a 400 naming the field, and nothing stored
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["url"]
    assert not WebhookSubscription.objects.exists()


def test_a_public_host_is_subscribed(api, nothing_allowed):
    response = api.post(
        URL,
        {"url": "https://hooks.example.com/oms", "secret": SECRET, "events": ["order.created"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert WebhookSubscription.objects.get().url == "https://hooks.example.com/oms"


def test_the_admin_form_refuses_an_internal_url_naming_the_field(
    admin_client_logged, nothing_allowed
):
    # when
    response = admin_client_logged.post(
        reverse("admin:outbox_webhooksubscription_add"),
        {
            "url": "http://169.254.169.254/latest/meta-data/",
            "events": ["order.created"],
            "secret": "a-long-enough-secret-1",
            "active": "on",
        },
    )

    # then
    assert response.status_code == 200
    assert "not a public address" in str(response.context["adminform"].form.errors["url"])
    assert not WebhookSubscription.objects.exists()


def test_a_name_that_rebinds_to_loopback_after_subscription_is_refused_at_delivery(
    api, receiver, resolver, nothing_allowed
):
    # given: a public answer when subscribing
    url = f"http://rebind.example.com:{receiver.port}/hooks"
    response = api.post(
        URL, {"url": url, "secret": SECRET, "events": ["order.created"]}, format="json"
    )
    assert response.status_code == 201, response.content
    an_order()

    # when: the same name now resolves to this machine, where the receiver listens
    resolver["rebind.example.com"] = "127.0.0.1"
    now = timezone.now()
    done = outbox_relay(now=now)

    # then: nothing reached the receiver; the delivery failed, saying why, and waits to retry
    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert (done.failed, delivery.status, delivery.attempts) == (1, DS.FAILED, 1)
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused: The host rebind.example.com")
    assert "127.0.0.1" in delivery.last_error
    assert delivery.next_try_at > now

    # when: it is still refused past the horizon
    past = delivery.horizon_at + timedelta(seconds=1)
    outbox_relay(now=past)

    # then: dead, like any other failure, and never sent
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DS.DEAD, 2)
    assert receiver.received == []


def test_a_delivery_connects_to_the_address_it_checked_with_the_name_as_host(
    receiver, settings, monkeypatch
):
    # given: an allowed address, and a name that resolves to it once, then to an
    # unroutable one (a second lookup at connect time would go there and time out)
    settings.OMS_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.OMS_WEBHOOK_TIMEOUT_SECONDS = 2
    answers = iter(["127.0.0.1"])
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "shop.example.com":
            address = next(answers, "192.0.2.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    subscribed(f"http://shop.example.com:{receiver.port}/hooks", events=["order.created"])
    an_order()

    # when
    done = outbox_relay()

    # then
    assert done.delivered == 1
    assert receiver.received[0].headers["Host"] == f"shop.example.com:{receiver.port}"


def test_an_https_pool_connects_to_the_address_and_checks_the_certificate_of_the_name():
    # when
    pool = _pool(target("https://shop.example.com/hooks"), "93.184.216.34")

    # then
    assert (pool.host, pool.port) == ("93.184.216.34", 443)
    assert pool.conn_kw["server_hostname"] == "shop.example.com"
    assert pool.assert_hostname == "shop.example.com"


def test_a_redirect_to_an_internal_address_is_not_followed(receiver):
    # given: an internal service, and a receiver that redirects there
    internal = Receiver().start()
    try:
        receiver.status = 302
        receiver.headers = {"Location": internal.url}
        subscribed(receiver.url, events=["order.created"])
        an_order()

        # when
        done = outbox_relay()

        # then: the redirect is a failed attempt; the internal service saw nothing
        assert (done.delivered, done.failed) == (0, 1)
        assert len(receiver.received) == 1
        assert internal.received == []
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.last_status_code) == (DS.FAILED, 302)
    finally:
        internal.stop()


def test_the_answer_is_kept_short_and_shown_escaped_in_the_admin(receiver, admin_client_logged):
    # given: a receiver answering HTML with a script, and a long one
    receiver.status = 500
    receiver.answer = b"<script>alert('owned')</script>" + b"x" * 5000
    subscribed(receiver.url, events=["order.created"])
    an_order()

    # when
    outbox_relay()
    delivery = Delivery.objects.get()
    listing = admin_client_logged.get(reverse("admin:outbox_delivery_changelist"))
    page = admin_client_logged.get(reverse("admin:outbox_delivery_change", args=[delivery.pk]))

    # then
    assert len(delivery.last_response) == EXCERPT_BYTES
    assert delivery.last_response.startswith("<script>")
    for response in (listing, page):
        assert response.status_code == 200
        html = response.content.decode()
        assert "&lt;script&gt;alert(" in html
        assert "<script>alert(" not in html


def test_a_nul_in_the_answer_does_not_stop_the_relay(receiver):
    # given
    receiver.status = 500
    receiver.answer = b"bad\x00answer"
    subscribed(receiver.url, events=["order.created"])
    an_order()

    # when
    done = outbox_relay()

    # then
    assert done.failed == 1
    assert Delivery.objects.get().last_response == "bad\ufffdanswer"
