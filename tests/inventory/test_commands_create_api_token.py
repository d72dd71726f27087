"""manage.py create_api_token USERNAME."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

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
