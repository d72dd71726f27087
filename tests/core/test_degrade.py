"""Without Redis the web pages carry on (core/cache.py): console, admin, login, tracking, and
capture; /healthz says the cache is unavailable."""

from __future__ import annotations

import logging

import pytest
import requests
from django.contrib import admin
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import caches
from django.urls import reverse
from rest_framework.authtoken.models import Token

from console.queues import QUEUES
from core.cache import RedisCache, caches_unavailable
from orders.models import Order
from orders.tracking.limits import lookup_blocked, lookup_failed
from tests.core.appserver import app_server_start, free_port
from tests.orders.helpers import place, product, stocked, warehouse

PASSWORD = "a-staff-password-42"


@pytest.fixture
def redis_down_server(transactional_db, tmp_path):
    """The app in its own process, with REDIS_URL (cache and broker) on a closed port."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    server = app_server_start(
        tmp_path,
        REDIS_URL=closed,
        CELERY_BROKER_URL=closed,
        OMS_TRACKING_MAX_FAILURES="3",
    )
    yield server
    server.stop()


def _login(session: requests.Session, base: str, username: str) -> requests.Response:
    login = f"{base}{reverse('admin:login')}"
    session.get(login, timeout=10)
    return session.post(
        login,
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": reverse("admin:index"),
        },
        allow_redirects=False,
        timeout=10,
    )


def _staff_pages(order: Order, sku: str) -> list[str]:
    changelists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    console = [
        reverse("oms_console:dashboard"),
        reverse("oms_console:jobs"),
        *(reverse("oms_console:queue", args=[slug]) for slug in QUEUES),
        reverse("orders_console:find"),
        reverse("orders_console:quote"),
        reverse("orders_console:order", args=[order.number]),
        reverse("alerts_console:list"),
        reverse("console:product-stock", args=[sku]),
    ]
    return [reverse("admin:index"), *changelists, *console]


def test_with_redis_unreachable_console_admin_login_tracking_and_capture_answer(
    redis_down_server, django_user_model, user
):
    # given: a staff login, and an order to track
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com")
    # The app process hashes with the production hashers, which the test settings replace.
    hasher = PBKDF2PasswordHasher()
    boss.password = hasher.encode(PASSWORD, hasher.salt())
    boss.save(update_fields=["password"])
    item = product("TEE-1")
    stocked(item, warehouse("DC-PARIS"), 10)
    order = place([(item, 1)], email="ada@example.com")
    base = redis_down_server.url
    session = requests.Session()

    # when / then: /healthz answers, saying what is degraded
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "cache": "unavailable"}

    # admin login
    login = _login(session, base, "boss")
    assert login.status_code == 302, login.text[:2000]
    assert login.headers["Location"] == reverse("admin:index")

    # every console page and admin list
    answers = {
        path: session.get(f"{base}{path}", allow_redirects=False, timeout=30).status_code
        for path in _staff_pages(order, "TEE-1")
    }
    assert {path: code for path, code in answers.items() if code not in (200, 302)} == {}

    # tracking: the right pair shows the order; wrong guesses are still limited
    track = f"{base}{reverse('tracking:lookup')}"
    found = requests.post(track, {"number": order.number, "email": "ada@example.com"}, timeout=10)
    assert found.status_code == 200
    assert order.number in found.text
    guesses = [
        requests.post(track, {"number": order.number, "email": f"x{n}@example.com"}, timeout=10)
        for n in range(10)
    ]
    codes = [guess.status_code for guess in guesses]
    assert set(codes) <= {404, 429} and 429 in codes

    # capture keeps working
    header = f"Token {Token.objects.create(user=user).key}"
    created = requests.post(
        f"{base}/api/v1/orders/",
        json={
            "channel": "web",
            "external_id": "W-REDIS-DOWN",
            "customer": {"email": "bea@example.com", "name": "Bea"},
            "shipping_address": {
                "line1": "1 rue de Rivoli",
                "city": "Paris",
                "postcode": "75001",
                "country": "FR",
                "lat": 48.86,
                "lon": 2.34,
            },
            "delivery_method": "standard",
            "currency": "EUR",
            "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "19.90"}],
        },
        headers={"Authorization": header},
        timeout=30,
    )
    assert created.status_code == 201, created.text[:2000]
    assert Order.objects.filter(external_id="W-REDIS-DOWN").exists()
    assert "Traceback" not in redis_down_server.log.read_text()


@pytest.fixture
def closed_port_caches(settings):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {
        alias: {"BACKEND": "core.cache.RedisCache", "LOCATION": closed, "KEY_PREFIX": alias}
        for alias in ("default", "coordination")
    }
    yield
    for alias in ("default", "coordination"):
        caches[alias]._outage.end()


def test_the_rate_limit_counts_in_process_memory_while_redis_is_down(
    closed_port_caches, settings, caplog
):
    # given
    settings.OMS_TRACKING_MAX_FAILURES = 2
    cache = caches["default"]
    assert isinstance(cache, RedisCache)

    # when
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        before = lookup_blocked(address="203.0.113.9", number="W-1")
        lookup_failed(address="203.0.113.9", number="W-1")
        lookup_failed(address="203.0.113.9", number="W-1")
        after = lookup_blocked(address="203.0.113.9", number="W-1")

    # then: counted all the same, and the outage logged once
    assert (before, after) == (False, True)
    assert cache.unavailable
    outage_lines = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(outage_lines) == 1
    assert caches_unavailable() == ["default", "coordination"]


@pytest.mark.django_db
def test_healthz_says_the_cache_is_available_when_it_is(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
