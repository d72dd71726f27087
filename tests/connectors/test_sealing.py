"""Connector secrets are sealed at rest and shown by their last four characters only."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from connectors.models import Connector
from connectors.sealing import SecretUnreadable, secret_open, secret_seal
from orders.models import Channel


def test_it_seals_with_the_first_key_and_opens_with_any(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.OMS_SECRET_KEY_CONNECTORS = [old]
    sealed_before = secret_seal("shpat_secret_1234")
    # when: a new key is put first
    settings.OMS_SECRET_KEY_CONNECTORS = [new, old]
    # then: the old seal still opens, new seals use the new key
    assert secret_open(sealed_before) == "shpat_secret_1234"
    settings.OMS_SECRET_KEY_CONNECTORS = [new]
    assert secret_open(secret_seal("x")) == "x"
    with pytest.raises(SecretUnreadable):
        secret_open(sealed_before)


def test_without_keys_one_is_derived_from_the_secret_key(settings):
    settings.OMS_SECRET_KEY_CONNECTORS = []
    sealed = secret_seal("abc")
    assert secret_open(sealed) == "abc"
    settings.SECRET_KEY = "another-" + "y" * 50
    with pytest.raises(SecretUnreadable):
        secret_open(sealed)


def test_a_key_that_is_not_a_fernet_key_says_so(settings):
    settings.OMS_SECRET_KEY_CONNECTORS = ["too-short"]
    with pytest.raises(ImproperlyConfigured, match="OMS_SECRET_KEY_CONNECTORS"):
        secret_seal("abc")


@pytest.mark.django_db
def test_the_database_holds_no_secret_in_clear():
    # given
    channel = Channel.objects.create(code="shop", name="Shop")
    connector = Connector.objects.create(
        channel=channel,
        kind=Connector.Kind.SHOPIFY,
        base_url="https://shop.example.com",
        webhook_secret_sealed=secret_seal("whsec_abcdefgh"),
        access_token_sealed=secret_seal("shpat_token_wxyz"),
    )
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT webhook_secret_sealed, access_token_sealed FROM connectors_connector"
        )
        [row] = cursor.fetchall()
    # then
    assert "whsec_abcdefgh" not in "".join(row)
    assert "shpat_token_wxyz" not in "".join(row)
    connector.refresh_from_db()
    assert connector.webhook_secret() == "whsec_abcdefgh"
    assert connector.last_four("webhook_secret") == "efgh"
    assert connector.last_four("access_token") == "wxyz"
