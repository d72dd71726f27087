"""Secrets kept encrypted at rest: a storefront's webhook secret and access token.

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) seals each secret. The keys
come from the setting `OMS_SECRET_KEY_CONNECTORS`: comma-separated Fernet keys, the first
seals, every one opens (so a key is rotated by putting the new one first and sealing the
secrets again). Without it, one key is derived from `SECRET_KEY`: a database copied
without the server's environment still gives nothing away, but changing `SECRET_KEY` then
makes the stored secrets unreadable until they are set again.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A sealed secret that no configured key opens (the keys changed since it was set)."""


def secret_seal(text: str) -> str:
    """Return `text` sealed with the current key, as ASCII text for a database column."""
    return _fernet(*_keys()).encrypt(text.encode()).decode("ascii")


def secret_open(sealed: str) -> str:
    """Return the text a sealed secret holds; raise SecretUnreadable if no key opens it."""
    try:
        return _fernet(*_keys()).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise SecretUnreadable(
            "A stored connector secret cannot be read with the configured keys "
            "(OMS_SECRET_KEY_CONNECTORS or SECRET_KEY changed): set it again."
        ) from None


def _keys() -> tuple[str, ...]:
    configured = tuple(getattr(settings, "OMS_SECRET_KEY_CONNECTORS", ()) or ())
    if configured:
        return configured
    # A label in the derivation: this key opens nothing else that SECRET_KEY signs.
    digest = hashlib.sha256(b"oms.connectors.sealing:" + settings.SECRET_KEY.encode()).digest()
    return (base64.urlsafe_b64encode(digest).decode("ascii"),)


@functools.lru_cache(maxsize=4)
def _fernet(*keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "OMS_SECRET_KEY_CONNECTORS holds a key that is not a Fernet key (32 url-safe "
            "base64-encoded bytes; make one with `python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())'`)."
        ) from None
