"""Where the OMS may send HTTP requests of its own: public hosts only.

Webhook subscribers and storefront connectors give the OMS a URL, and a worker then POSTs to
it and keeps the start of the answer. Without a check, such a URL makes the OMS a proxy into
its own network: Redis on 127.0.0.1:6379, the database, a cloud's metadata service on
169.254.169.254. So a URL is refused when its host is, or resolves to, an address that is not
public (loopback, private, link-local, shared, reserved, multicast, unspecified), unless the
host is named in `OMS_OUTBOUND_ALLOWED_HOSTS` (development and tests).

A name is checked when the URL is given and again before every request
(`outbound_addresses`), connecting to the address that was checked: a name that resolved to a
public address once and to 127.0.0.1 later (DNS rebinding) is refused the second time.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from core.exceptions import DomainError

SCHEMES = ("https", "http")


class OutboundRefused(DomainError):
    """A URL the OMS will not send requests to; the message says why, for a person."""

    code = "outbound_refused"


def outbound_url_check(url: str, *, field: str = "url") -> None:
    """Raise OutboundRefused (naming `field`) unless the OMS may send requests to `url`."""
    parts = _parts(url, field=field)
    outbound_addresses(parts.hostname or "", parts.port or _default_port(parts.scheme), field=field)


def outbound_addresses(host: str, port: int, *, field: str = "url") -> list[str]:
    """Return the addresses of `host` to connect to, every one of them allowed.

    An allowed host (setting) is returned as it is, unresolved; an allowed address also
    admits the names that resolve to it. Raise OutboundRefused when the name does not
    resolve or any of its addresses is neither public nor allowed: one private address
    among public ones is enough for a resolver to hand it out.
    """
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        raise OutboundRefused("The URL has no host.", field=field)
    allowed = _allowed_hosts()
    if host in allowed:
        return [host]
    literal = _ip(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise OutboundRefused(f"The host {host} does not resolve.", field=field) from error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not _public(address) and str(address) not in allowed:
            raise OutboundRefused(
                f"The host {host} is not a public address ({address}): the OMS sends requests "
                "only to public hosts.",
                field=field,
            )
    # Keep the resolver's order, without repeats (one per socket type otherwise).
    return list(dict.fromkeys(str(address) for address in addresses))


def _parts(url: str, *, field: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise OutboundRefused("Enter a valid URL.", field=field) from error
    if parts.scheme not in SCHEMES:
        raise OutboundRefused("The URL must start with https:// (or http://).", field=field)
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused(
            "The URL must not carry a user name or password; sign requests with the secret.",
            field=field,
        )
    return parts


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_global and not address.is_multicast


def _allowed_hosts() -> frozenset[str]:
    return frozenset(
        host.strip().strip("[]").rstrip(".").lower() for host in settings.OMS_OUTBOUND_ALLOWED_HOSTS
    )
