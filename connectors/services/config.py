"""Connect a channel to a storefront (PUT /api/v1/channels/{code}/connector/)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from connectors.models import Connector, ConnectorLocation
from connectors.sealing import secret_seal
from connectors.services.outbound import connector_outbound_reset
from core.outbound import outbound_url_check
from inventory.models import Location
from orders.models import Channel


def connector_set(
    *,
    channel: Channel,
    kind: str,
    base_url: str,
    webhook_secret: str,
    access_token: str,
    locations: Mapping[Location, str],
) -> tuple[Connector, bool]:
    """Connect `channel` to a storefront, or replace its connection wholly; return the
    connector and whether it is new. The address must be one the OMS may call (checked
    again before every call); the secrets are stored sealed."""
    # Before the transaction: it may wait on DNS.
    outbound_url_check(base_url, field="base_url")
    return _connector_write(
        channel=channel,
        kind=kind,
        base_url=base_url,
        webhook_secret=webhook_secret,
        access_token=access_token,
        locations=locations,
    )


@transaction.atomic(durable=True)
def _connector_write(
    *,
    channel: Channel,
    kind: str,
    base_url: str,
    webhook_secret: str,
    access_token: str,
    locations: Mapping[Location, str],
) -> tuple[Connector, bool]:
    connector, created = Connector.objects.update_or_create(
        channel=channel,
        defaults={
            "kind": kind,
            "base_url": base_url,
            "webhook_secret_sealed": secret_seal(webhook_secret),
            "access_token_sealed": secret_seal(access_token),
            "active": True,
        },
    )
    connector.locations.all().delete()
    ConnectorLocation.objects.bulk_create(
        ConnectorLocation(connector=connector, location=location, remote_id=remote_id)
        for location, remote_id in sorted(locations.items(), key=lambda item: item[0].code)
    )
    # Another shop, token or location map: the kept remote ids and figures may be wrong.
    connector_outbound_reset(connector=connector)
    return connector, created
