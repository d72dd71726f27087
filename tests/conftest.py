"""Fixtures shared by the whole suite, and the rule for PostgreSQL-only tests.

Tests marked `postgres` need real row locks; on SQLite they are skipped. With
OMS_REQUIRE_POSTGRES=1 (CI) a skipped postgres test fails the run instead.
"""

import os

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

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
    if REQUIRE_POSTGRES and _skipped_postgres:
        count = len(_skipped_postgres)
        print(f"\nOMS_REQUIRE_POSTGRES=1 but {count} postgres test(s) were skipped:")
        for nodeid in _skipped_postgres[:20]:
            print("  ", nodeid)
        session.exitstatus = 1


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="integrator", password="pw-not-used")


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
