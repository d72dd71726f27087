"""Channels, their delivery prices, and carrier services, set by API (configuration as code).

The admin stays the place for people; these are the writes a script makes to set up an
installation and set it up again identically. Each is keyed by its natural key and can be
sent again: the same body gives the same state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from core.exceptions import DomainError
from core.text import TextRefused, code_normalise
from inventory.models import Location
from orders.delivery.config import delivery_config_clear
from orders.models import CarrierService, Channel, DeliveryPrice, TransitBand

CHANNEL_UPDATABLE = frozenset(
    {
        "name",
        "kind",
        "active",
        "locations",
        "buffer_units",
        "buffer_percent",
        "pickup_transfer",
        "return_days",
    }
)


def channel_create(
    *,
    code: str,
    name: str,
    kind: str = Channel.Kind.WEB,
    locations: Sequence[Location] = (),
    return_days: int = 30,
    buffer_units: int = 0,
    buffer_percent: Decimal = Decimal("0"),
    pickup_transfer: bool = False,
    active: bool = True,
) -> Channel:
    """Create a channel; a code that exists already, in any case, is a 400 on `code`."""
    code = _key(code, field="code", what="A channel code")
    try:
        with transaction.atomic(durable=True):
            channel = Channel.objects.create(
                code=code,
                name=name,
                kind=kind,
                return_days=return_days,
                buffer_units=buffer_units,
                buffer_percent=buffer_percent,
                pickup_transfer=pickup_transfer,
                active=active,
            )
            channel.locations.set(locations)
            return channel
    except IntegrityError:
        existing = Channel.objects.filter(code__iexact=code).values_list("code", flat=True).first()
        if existing is not None:
            raise DomainError(
                f"A channel with code '{existing}' already exists (codes are compared "
                "ignoring case).",
                field="code",
                code="duplicate",
            ) from None
        raise


@transaction.atomic(durable=True)
def channel_update(*, channel: Channel, changes: Mapping[str, Any]) -> Channel:
    """Change the given fields of a channel (not its code); `locations` replaces the set."""
    unknown = set(changes) - CHANNEL_UPDATABLE
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(f"'{field}' cannot be changed.", field=field)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    fields = sorted(set(changes) - {"locations"})
    for field in fields:
        setattr(channel, field, changes[field])
    if fields:
        channel.save(update_fields=fields)
    if "locations" in changes:
        channel.locations.set(changes["locations"])
    return channel


@transaction.atomic(durable=True)
def delivery_price_set(
    *,
    channel: Channel,
    method: str,
    price: Decimal,
    currency: str,
    free_above: Decimal | None = None,
) -> DeliveryPrice:
    """Set what a method costs the channel's customers; the method is offered from now on."""
    delivery_price, _ = DeliveryPrice.objects.update_or_create(
        channel=channel,
        method=method,
        defaults={
            "price": price,
            "currency": currency.upper(),
            "free_above": free_above,
            "active": True,
        },
    )
    return delivery_price


@transaction.atomic(durable=True)
def carrier_service_set(
    *,
    code: str,
    name: str,
    method: str,
    active: bool = True,
    bands: Sequence[tuple[int, int]] = (),
) -> tuple[CarrierService, bool]:
    """Create or replace a carrier service with exactly these transit bands (max km,
    days); return it and whether it was created."""
    if len({max_km for max_km, _ in bands}) != len(bands):
        raise DomainError("Each band needs its own max_km.", field="bands")
    service, created = CarrierService.objects.update_or_create(
        code=code, defaults={"name": name, "method": method, "active": active}
    )
    service.bands.all().delete()
    TransitBand.objects.bulk_create(
        TransitBand(service=service, max_km=max_km, days=days) for max_km, days in sorted(bands)
    )
    # bulk_create sends no signal: the snapshot is dropped once the new bands are visible.
    transaction.on_commit(delivery_config_clear)
    return service, created


def _key(value: str, *, field: str, what: str) -> str:
    try:
        return code_normalise(value, what=what)
    except TextRefused as refused:
        raise DomainError(str(refused), field=field) from None
