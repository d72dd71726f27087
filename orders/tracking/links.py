"""How a customer reaches an order: a signed link, or its number with the e-mail address.

A tracking link carries the order number and a signature (`django.core.signing`, its own
salt), so it cannot be forged or walked, and it needs no login. It does not expire: it is
printed in e-mails that customers open weeks later.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse

from orders.models import Order

SALT = "orders.tracking.link"
# Numbers look like ABC234XYZ (orders.numbers); anything else cannot be an order.
NUMBER_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def number_is_plausible(number: str) -> bool:
    """Return whether `number` could be an order number (so it is worth a query)."""
    return bool(NUMBER_FORMAT.match(number or ""))


def tracking_token(number: str) -> str:
    return signing.Signer(salt=SALT, sep=".").sign(number)


def tracking_token_number(token: str) -> str | None:
    """Return the order number a token was signed for, or None if it was not signed by us."""
    try:
        number = signing.Signer(salt=SALT, sep=".").unsign(token)
    except signing.BadSignature:
        return None
    return number if number_is_plausible(number) else None


def tracking_url(order: Order, request: HttpRequest | None = None) -> str:
    """Return the absolute URL of the order's signed tracking page."""
    path = _tracking_path(order.number, get_script_prefix(), settings.SECRET_KEY)
    if request is not None:
        return request.build_absolute_uri(path)
    return f"{settings.OMS_PUBLIC_URL}{path}"


@lru_cache(maxsize=64)
def _tracking_path(number: str, script_prefix: str, secret_key: str) -> str:
    """The path of the order's tracking page (the script prefix `reverse` reads and the key
    it is signed with are part of the cache's key). Capture draws a new order's link twice,
    for `order.created` (the public URL) and for the caller's answer (its own host):
    signing and reversing once halves that cost."""
    return reverse("tracking:link", args=[tracking_token(number)])


def order_for_lookup(*, number: str, email: str) -> Order | None:
    """Return the order with this number and e-mail, or None.

    A wrong e-mail and an unknown number cost the same single query and answer the same.
    """
    number = (number or "").strip().upper()
    email = (email or "").strip().lower()
    if not email or "\x00" in email or not number_is_plausible(number):
        return None
    return Order.objects.filter(number=number, customer_email=email).first()
