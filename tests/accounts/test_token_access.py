"""A key's permissions and scope are its user's as they stand at each request.

The token query reads the grants as permission ids and names them from a dict kept per
process (accounts.access): a grant revoked or given, a user taken out of its role or
deactivated, counts from the very next request of the same key.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.access import permission_names
from accounts.authentication import TokenAuthentication
from accounts.models import Membership
from accounts.roles import INTEGRATION
from accounts.scoping import location_ids_for
from inventory.models import Product
from tests.orders.helpers import warehouse

pytestmark = pytest.mark.django_db


def _key_for(username: str) -> str:
    out = StringIO()
    call_command("create_api_token", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _view_product() -> Permission:
    return Permission.objects.get(content_type__app_label="inventory", codename="view_product")


def test_a_permission_taken_from_the_role_refuses_the_next_request_and_given_back_admits_it():
    # given: a key whose role reads products, and one request that warmed every cache
    api = _client(_key_for("shop"))
    role = Group.objects.get(name=INTEGRATION)
    assert api.get(reverse("products")).status_code == 200
    # when: the role loses the permission
    role.permissions.remove(_view_product())
    refused = api.get(reverse("products"))
    # and: gets it back
    role.permissions.add(_view_product())
    admitted = api.get(reverse("products"))
    # then
    assert refused.status_code == 403
    assert admitted.status_code == 200


def test_a_user_taken_out_of_its_role_is_refused_at_the_next_request():
    # given
    api = _client(_key_for("shop"))
    assert api.get(reverse("products")).status_code == 200
    # when
    User.objects.get(username="shop").groups.clear()
    # then
    assert api.get(reverse("products")).status_code == 403


def test_a_permission_given_to_the_user_alone_counts_once_even_when_the_role_has_it_too():
    # given: the same permission through the role and the user
    key = _key_for("shop")
    user = User.objects.get(username="shop")
    user.user_permissions.add(_view_product())
    # when
    authenticated, _ = TokenAuthentication().authenticate_credentials(key)
    # then
    assert authenticated.has_perm("inventory.view_product")
    assert authenticated.get_all_permissions() == permission_names(
        Group.objects.get(name=INTEGRATION).permissions.values_list("pk", flat=True)
    )


def test_a_deactivated_user_is_refused_with_401_at_the_next_request():
    # given
    api = _client(_key_for("shop"))
    assert api.get(reverse("products")).status_code == 200
    # when
    User.objects.filter(username="shop").update(is_active=False)
    response = api.get(reverse("products"))
    # then
    assert response.status_code == 401


def test_a_permission_created_after_the_names_were_read_is_named_at_its_first_grant():
    # given: the names read, then a permission row made without a signal (another process)
    key = _key_for("shop")
    TokenAuthentication().authenticate_credentials(key)
    [made] = Permission.objects.bulk_create(
        [
            Permission(
                codename="audit_product",
                name="Can audit product",
                content_type=ContentType.objects.get_for_model(Product),
            )
        ]
    )
    User.objects.get(username="shop").user_permissions.add(made)
    # when
    user, _ = TokenAuthentication().authenticate_credentials(key)
    # then
    assert user.has_perm("inventory.audit_product")
    assert user.has_perm("inventory.view_product")


def test_a_membership_given_or_taken_narrows_or_widens_the_next_request():
    # given: a key not tied to a place
    key = _key_for("carrier")
    place = warehouse("WH-A")
    everywhere = location_ids(key)
    # when
    membership = Membership.objects.create(
        user=User.objects.get(username="carrier"), location=place
    )
    narrowed = location_ids(key)
    membership.delete()
    widened = location_ids(key)
    # then
    assert everywhere is None
    assert narrowed == {place.pk}
    assert widened is None


def location_ids(key: str) -> frozenset[int] | None:
    user, _ = TokenAuthentication().authenticate_credentials(key)
    return location_ids_for(user)
