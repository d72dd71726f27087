"""The address rate limits count by (accounts/client_ip.py): the connection's own with no
proxy in front (the default), the N-th X-Forwarded-For entry from the right behind N."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from accounts.client_ip import client_ip
from orders.numbers import order_number_new

TRACK = reverse("tracking:lookup")
LOGIN = reverse("admin:login")


@pytest.fixture(autouse=True)
def _no_earlier_counts():
    """The counts live in the process's cache: start each test without another's."""
    cache.clear()


def _guess(client, *, number: str, remote: str = "198.51.100.20", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(TRACK, {"number": number, "email": "guess@example.com"}, **extra)


@pytest.mark.django_db
def test_without_a_proxy_a_changing_x_forwarded_for_gets_no_more_tracking_guesses(client, settings):
    # given: the default deployment, nothing in front of the app
    assert settings.OMS_TRUSTED_PROXY_COUNT == 0
    settings.OMS_TRACKING_MAX_FAILURES = 3

    # when: each guess claims another address and names another order
    answers = [
        _guess(client, number=order_number_new(), forwarded=f"203.0.113.{n}").status_code
        for n in range(6)
    ]

    # then: the connection's address is what counts
    assert answers == [404, 404, 404, 429, 429, 429]


@pytest.mark.django_db
def test_the_tracking_page_limits_each_order_number_across_addresses(client, settings):
    # given
    settings.OMS_TRACKING_MAX_FAILURES = 3
    number = order_number_new()

    # when: guesses at one number, from many addresses
    answers = [
        _guess(client, number=number, remote=f"198.51.100.{n}").status_code for n in range(5)
    ]
    other = _guess(client, number=order_number_new(), remote="198.51.100.99")

    # then: the number is held; another number from a fresh address is not
    assert answers == [404, 404, 404, 429, 429]
    assert other.status_code == 404


@pytest.mark.django_db
def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_wrote(client, settings):
    # given: one proxy; the client writes its own entries, the proxy appends the real one
    settings.OMS_TRUSTED_PROXY_COUNT = 1
    settings.OMS_TRACKING_MAX_FAILURES = 2

    # when
    answers = [
        _guess(
            client,
            number=order_number_new(),
            remote="10.0.0.2",  # the proxy
            forwarded=f"192.0.2.{n}, 203.0.113.50",
        ).status_code
        for n in range(3)
    ]
    neighbour = _guess(
        client, number=order_number_new(), remote="10.0.0.2", forwarded="203.0.113.51"
    )

    # then
    assert answers == [404, 404, 429]
    assert neighbour.status_code == 404


def test_behind_n_proxies_the_nth_entry_from_the_right_is_the_client(rf, settings):
    settings.OMS_TRUSTED_PROXY_COUNT = 2
    forged_then_real = "1.2.3.4, 203.0.113.7, 10.0.0.5"
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR=forged_then_real)) == "203.0.113.7"
    # a chain shorter than the proxies, or an entry that is no address: the connection's own
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="10.0.0.5", REMOTE_ADDR="10.0.0.9")) == (
        "10.0.0.9"
    )
    assert client_ip(
        rf.get("/", HTTP_X_FORWARDED_FOR="evil, 10.0.0.5", REMOTE_ADDR="10.0.0.9")
    ) == ("10.0.0.9")


@pytest.mark.django_db
def test_without_a_proxy_a_changing_x_forwarded_for_does_not_escape_the_login_lockout(
    client, settings
):
    # given
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_user("ada", password="right-password-1", is_staff=True)

    # when: failures on several names, each claiming another address
    for n in range(3):
        client.post(
            LOGIN,
            {"username": f"guess{n}", "password": "wrong"},
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    locked = client.post(
        LOGIN,
        {"username": "ada", "password": "right-password-1"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.200",
    )

    # then
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
