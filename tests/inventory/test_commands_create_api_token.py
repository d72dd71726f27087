"""manage.py create_api_token USERNAME."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_creates_an_api_only_user_and_prints_its_token():
    # when
    key, said = _run("storefront")
    # then
    user = get_user_model().objects.get(username="storefront")
    assert Token.objects.get(user=user).key == key
    assert not user.has_usable_password()
    assert "unusable password" in said


def test_running_it_again_prints_the_same_token():
    # given
    first, _ = _run("storefront")
    # when
    second, said = _run("storefront")
    # then
    assert second == first
    assert said == ""
    assert Token.objects.count() == 1


def test_an_existing_user_keeps_its_password(django_user_model):
    # given
    user = django_user_model.objects.create_user(username="ada", password="s3cret-pass")
    # when
    key, _ = _run("ada")
    # then
    user.refresh_from_db()
    assert user.check_password("s3cret-pass")
    assert Token.objects.get(user=user).key == key


def test_the_token_opens_the_api():
    # given
    key, _ = _run("till")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    # when
    response = client.get("/api/v1/products/")
    # then
    assert response.status_code == 200


def test_an_inactive_user_gets_no_token(django_user_model):
    # given
    django_user_model.objects.create_user(username="gone", is_active=False)
    # when / then
    with pytest.raises(CommandError):
        _run("gone")
    assert not Token.objects.exists()


def test_an_existing_user_with_no_role_gets_the_integration_role(django_user_model):
    # given: a user made before roles existed, or by hand, with no group
    user = django_user_model.objects.create_user("erp", password="x")
    # when
    key, said = _run("erp")
    # then: the token it was given works on the API
    assert list(user.groups.values_list("name", flat=True)) == ["integration"]
    assert "now has 'integration'" in said
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/products/").status_code == 200


def test_an_existing_user_with_a_role_keeps_it(django_user_model):
    # given
    user = django_user_model.objects.create_user("clerk", password="x")
    user.groups.add(Group.objects.get(name="customer service"))
    # when
    _run("clerk")
    # then
    assert list(user.groups.values_list("name", flat=True)) == ["customer service"]
