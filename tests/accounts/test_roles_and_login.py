"""Role groups from the migration, login lockouts, and another location's fulfilment."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.test import override_settings
from django.urls import reverse

from accounts.client_ip import client_ip
from accounts.roles import ROLES
from accounts.sync import roles_sync
from tests.accounts.helpers import network, role_user, token_client

LOGIN = "admin:login"


def _perms(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_each_role_group_exists_with_its_permissions(db):
    # then
    assert {role.name for role in ROLES} <= set(Group.objects.values_list("name", flat=True))
    store = _perms("store staff")
    assert {"fulfilment.change_fulfilment", "inventory.adjust_stocklevel"} <= store
    assert "orders.cancel_order" not in store
    service = _perms("customer service")
    assert {"orders.view_order", "orders.cancel_order", "inventory.view_stocklevel"} <= service
    assert not {
        p for p in service if p.startswith("inventory.") and not p.startswith("inventory.view_")
    }
    assert "auth.change_user" in _perms("administrator")
    assert "auth.change_user" not in _perms("inventory manager")
    assert "orders.add_order" in _perms("integration")


def test_a_permission_removed_in_the_admin_stays_removed_until_reset(db):
    # given
    group = Group.objects.get(name="store staff")
    group.permissions.remove(*group.permissions.filter(codename="adjust_stocklevel"))
    # when
    roles_sync()
    # then
    assert "inventory.adjust_stocklevel" not in _perms("store staff")
    # when
    roles_sync(reset=True)
    # then
    assert "inventory.adjust_stocklevel" in _perms("store staff")


def _fail_login(client, username: str, **extra):
    return client.post(
        reverse(LOGIN), {"username": username, "password": "wrong-password"}, **extra
    )


@override_settings(AXES_FAILURE_LIMIT=3)
def test_an_account_locks_after_repeated_failures_from_any_address(client, db):
    # given
    User.objects.create_user("ada", password="right-password-1", is_staff=True)
    for n in range(3):
        _fail_login(client, "ada", REMOTE_ADDR=f"10.0.0.{n}")
    # when: the right password, from a fresh address
    response = client.post(
        reverse(LOGIN),
        {"username": "ada", "password": "right-password-1"},
        REMOTE_ADDR="10.0.0.99",
    )
    # then
    assert response.status_code == 429
    assert b"Sign-in temporarily locked" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3, OMS_TRUSTED_PROXY_COUNT=1)
def test_an_address_behind_the_proxy_locks_after_failures_on_many_accounts(client, db):
    # given: one client guessing names, seen through the proxy
    User.objects.create_user("bob", password="right-password-2", is_staff=True)
    for n in range(3):
        _fail_login(client, f"guess{n}", HTTP_X_FORWARDED_FOR="203.0.113.7")
    # when
    locked = client.post(
        reverse(LOGIN),
        {"username": "bob", "password": "right-password-2"},
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    other = client.post(
        reverse(LOGIN),
        {"username": "bob", "password": "right-password-2"},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    # then: the address is locked, not the proxy (every request comes from it)
    assert locked.status_code == 429
    assert other.status_code == 302


@override_settings(OMS_TRUSTED_PROXY_COUNT=1)
def test_the_client_address_is_the_one_the_trusted_proxy_saw(rf):
    # a forged left-hand entry does not choose the address
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"


@override_settings(OMS_TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_the_header_is_ignored(rf):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"


def test_an_integration_token_gets_404_for_another_locations_fulfilment(db):
    # given
    (
        own,
        other,
    ) = network()
    client = token_client(role_user("integration", location=own.location))
    # when
    mine = client.get(reverse("fulfilment-detail", args=[own.fulfilment.pk]))
    theirs = client.get(reverse("fulfilment-detail", args=[other.fulfilment.pk]))
    accept = client.post(reverse("fulfilment-accept", args=[other.fulfilment.pk]))
    # then
    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert accept.status_code == 404
    other.fulfilment.refresh_from_db()
    assert other.fulfilment.status == "requested"


def test_store_staff_search_and_export_stay_in_their_location(client, db):
    # given
    own, other = network()
    client.force_login(role_user("store staff", location=own.location))
    # when
    search = client.get(
        reverse("admin:inventory_stocklevel_changelist"), {"q": other.location.code}
    )
    export = client.post(
        reverse("admin:inventory_stocklevel_export"),
        {"format": "0", "resource": "0", "export_items": [own.stock.pk, other.stock.pk]},
    )
    # then
    assert search.status_code == 200
    assert "OTHER-MUG" not in search.content.decode()
    assert export.status_code in {200, 302}
    assert b"OTHER-MUG" not in export.content


def test_store_staff_cannot_adjust_another_locations_stock_by_action(client, db):
    # given
    own, other = network()
    client.force_login(role_user("store staff", location=own.location))
    # when
    response = client.post(
        reverse("admin:inventory_stocklevel_changelist"),
        {
            "action": "receive_units",
            "_selected_action": [other.stock.pk],
            "apply": "1",
            "quantity": "5",
            "reference": "",
        },
    )
    # then
    assert response.status_code in {200, 302}
    other.stock.refresh_from_db()
    assert other.stock.on_hand == 10
