"""Fixtures shared by the whole suite, and the rule for PostgreSQL-only tests.

Tests marked `postgres` need real row locks; on SQLite they are skipped. With
OMS_REQUIRE_POSTGRES=1 (CI) a skipped postgres test fails the run instead.
"""

import os
import socket
from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytest_plugins = ["tests.worker"]

DEFAULT_CHANNELS = import_module("orders.migrations.0002_default_channels").CHANNELS
REQUIRE_POSTGRES = os.environ.get("OMS_REQUIRE_POSTGRES") == "1"
_skipped_postgres: list[str] = []


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))


def pytest_runtest_logreport(report):
    if report.skipped and "postgres" in report.keywords:
        _skipped_postgres.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    _purge_unconsumed_tasks()
    if REQUIRE_POSTGRES and _skipped_postgres:
        count = len(_skipped_postgres)
        print(f"\nOMS_REQUIRE_POSTGRES=1 but {count} postgres test(s) were skipped:")
        for nodeid in _skipped_postgres[:20]:
            print("  ", nodeid)
        session.exitstatus = 1


def _purge_unconsumed_tasks() -> None:
    """Drop what tests enqueued with no worker running (oms.test_settings routes it aside)."""
    from django.conf import settings

    from oms.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:  # a broker that is down has nothing to purge
        pass


@pytest.fixture(autouse=True)
def _default_channels(request):
    """Transactional tests flush the database, data migrations included: put the channels
    that exist from the first migration (docs/api.md) back."""
    marker = request.node.get_closest_marker("django_db")
    uses_transactions = marker is not None and marker.kwargs.get("transaction")
    if uses_transactions or "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        from orders.models import Channel

        for code, name in DEFAULT_CHANNELS:
            kind = code if code in Channel.Kind.values else Channel.Kind.WEB
            Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


@pytest.fixture(autouse=True)
def _delivery_settings_fresh():
    """The delivery settings are kept per process (orders.delivery.config) and a rolled-back
    test fires no signal: start every test without the previous test's snapshot."""
    from orders.delivery.config import delivery_config_clear

    delivery_config_clear()


@pytest.fixture
def user(django_user_model):
    """An integration's API user: the `integration` role, not tied to a location."""
    integrator = django_user_model.objects.create_user(
        username="integrator", password="pw-not-used"
    )
    integrator.groups.add(Group.objects.get(name="integration"))
    return integrator


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="admin", email="admin@example.com", password="admin-pass-123"
    )


@pytest.fixture
def api(user):
    """An API client authenticated with a token, as integrators call the API."""
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def admin_client_logged(client, staff_user):
    client.force_login(staff_user)
    return client


class Resolver(dict):
    """Host names the test machine resolves, name -> address; any other name goes to the
    system resolver. The machine has no DNS: outbound URL checks (core/outbound.py) need
    names of their own."""

    def getaddrinfo(self, host, port, *args, **kwargs):
        name = str(host).rstrip(".").lower() if host is not None else ""
        address = self.get(name)
        if address is None and ("." + name).rpartition(".example.")[2] in EXAMPLE_DOMAINS:
            address = EXAMPLE_ADDRESS
        if address is None:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


_real_getaddrinfo = socket.getaddrinfo
# RFC 2606 names: example.com, example.org, example.net and their subdomains.
EXAMPLE_DOMAINS = ("com", "org", "net")
EXAMPLE_ADDRESS = "93.184.216.34"


@pytest.fixture(autouse=True)
def resolver(monkeypatch):
    """Names under example.com (.org, .net) resolve to a public address, as they would on the
    internet; tests add names of their own (`resolver["rebind.test"] = "127.0.0.1"`)."""
    names = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", names.getaddrinfo)
    return names
