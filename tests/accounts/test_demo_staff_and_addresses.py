"""Demo logins for `make run` (never without DEBUG), and one client-address rule for the
login lockouts and the tracking page's rate limit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Membership
from accounts.roles import ROLE_NAMES
from demo.management.commands.seed_demo_staff import PASSWORD
from tests.factories import StoreFactory
from tests.orders.helpers import warehouse

pytestmark = pytest.mark.django_db


def _seed_staff() -> str:
    out = StringIO()
    call_command("seed_demo_staff", stdout=out)
    return out.getvalue()


@override_settings(DEBUG=False)
def test_demo_logins_are_refused_without_debug():
    # given
    StoreFactory(code="ST-PARIS-RIVOLI")
    warehouse("DC-PARIS")
    # when
    with pytest.raises(CommandError, match="DEBUG is off"):
        _seed_staff()
    # then
    assert not User.objects.filter(username__startswith="demo-").exists()


@override_settings(DEBUG=True)
def test_demo_logins_give_one_person_per_role_and_a_second_run_changes_nothing(client):
    # given
    StoreFactory(code="ST-PARIS-RIVOLI")
    warehouse("DC-PARIS")
    # when
    said = _seed_staff()
    again = _seed_staff()
    # then
    users = User.objects.filter(username__startswith="demo-").prefetch_related("groups")
    assert sorted(g.name for u in users for g in u.groups.all()) == sorted(ROLE_NAMES)
    places = dict(Membership.objects.values_list("user__username", "location__code"))
    assert places == {"demo-store": "ST-PARIS-RIVOLI", "demo-warehouse": "DC-PARIS"}
    integration = User.objects.get(username="demo-integration")
    assert not integration.has_usable_password() and not integration.is_staff
    assert Token.objects.get(user=integration).key in said
    assert said == again
    assert User.objects.filter(username__startswith="demo-").count() == len(ROLE_NAMES)
    # and a demo person logs in to the console with the documented password
    login = client.post(reverse("admin:login"), {"username": "demo-store", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@override_settings(DEBUG=True)
def test_seed_demo_adds_the_demo_logins_when_debug_is_on():
    # when
    call_command("seed_demo", "--products", "5", "--no-story", stdout=StringIO())
    # then
    assert User.objects.get(username="demo-warehouse").memberships.get().location.code == (
        "DC-PARIS"
    )


@override_settings(
    OMS_TRUSTED_PROXY_COUNT=1, OMS_TRACKING_MAX_FAILURES=2, OMS_TRACKING_WINDOW_SECONDS=600
)
def test_tracking_counts_failures_per_client_behind_the_proxy_not_per_forged_entry(client):
    # given: one guesser behind the proxy, forging a new left-hand entry each time
    cache.clear()
    for n in range(2):
        client.post(
            reverse("tracking:lookup"),
            {"number": f"NOPE{n}", "email": "x@example.com"},
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.7",
            REMOTE_ADDR="10.0.0.1",
        )
    # when
    guesser = client.post(
        reverse("tracking:lookup"),
        {"number": "NOPE9", "email": "x@example.com"},
        HTTP_X_FORWARDED_FOR="1.1.1.9, 203.0.113.7",
        REMOTE_ADDR="10.0.0.1",
    )
    customer = client.post(
        reverse("tracking:lookup"),
        {"number": "NOPE8", "email": "x@example.com"},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
        REMOTE_ADDR="10.0.0.1",
    )
    # then: the guesser is held; the other client behind the same proxy is looked up (a
    # wrong pair shows nothing: 404)
    assert guesser.status_code == 429
    assert customer.status_code == 404
    cache.clear()
