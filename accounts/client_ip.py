"""The client's address behind a known number of reverse proxies: the key of the login
lockouts (axes, AXES_CLIENT_IP_CALLABLE) and of the tracking page's rate limit."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Return the address of the client that connected to the outermost trusted proxy.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so with N proxies
    the client is the N-th entry from the right; entries further left were written by the
    client itself and are not trusted (a forged header must not pick whom to lock out).
    With no trusted proxy (`OMS_TRUSTED_PROXY_COUNT=0`, the default: nothing in front of
    the app) the header is ignored and the connection's address is the client's; likewise
    when the header is shorter than the chain, or its entry is not an address.
    """
    count = settings.OMS_TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR")
    if count <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < count:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote
