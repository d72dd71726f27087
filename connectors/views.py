"""POST /connectors/{channel}/webhook/: a storefront's order webhook, unchanged.

The signature is checked on the raw body before anything is stored (401, nothing kept);
then the body is stored as it came, in its own transaction, and only then turned into an
order (connectors.services.inbound), so that the 200 comes with the order placed, changed
or cancelled, or the body waiting in the console's queue to fix. If applying fails after
the body was stored, the answer is still 200 with `received`: the body is safe and the
worker applies it once the request's claim lapses.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.adapters import inbound_adapter
from connectors.models import Connector
from connectors.sealing import SecretUnreadable
from connectors.services.inbound import storefront_order_apply, webhook_store
from core.text import code_lookup_form
from orders.models import Channel

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, channel: str) -> JsonResponse:
    key = code_lookup_form(channel)
    connector = _connector(key) if key is not None else None
    if connector is None:
        return JsonResponse({"detail": f"No storefront is connected to '{channel}'."}, status=404)
    body = request.body
    try:
        secret = connector.webhook_secret()
    except SecretUnreadable:
        # Our fault, not the storefront's: it retries, and nothing is lost meanwhile.
        logger.error("Connector of channel %s: its webhook secret cannot be read.", channel)
        return JsonResponse({"detail": "The OMS cannot check signatures now."}, status=503)
    adapter = inbound_adapter(connector.kind)
    if not adapter.webhook_verify(body=body, headers=request.headers, secret=secret):
        return JsonResponse(
            {"detail": f"Bad or missing signature ({adapter.signature_header})."}, status=401
        )
    stored = webhook_store(connector=connector, headers=request.headers, body=body, claim=True)
    row = stored.storefront_order
    if stored.new:
        try:
            row = storefront_order_apply(storefront_order=row)
        except Exception:
            # Stored and claimed: the worker applies it when the claim lapses. The storefront
            # has nothing to resend, so it hears 200 with the body `received`.
            logger.exception("Storefront order %s could not be applied in its request.", row.pk)
    # A repeated delivery answers what became of its first copy.
    return JsonResponse(
        {
            "status": row.status,
            "reason": row.reason,
            "order": row.order.number if row.order is not None else None,
            "duplicate": not stored.new,
        }
    )


def _connector(channel_code: str) -> Connector | None:
    """Return the active connector of a channel, with what the request needs of it.

    One plain query: on a path that does little else, compiling the ORM's join cost about
    as much CPU as storing the body.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.kind, c.webhook_secret_sealed, c.channel_id
                FROM {Connector._meta.db_table} c
                JOIN {Channel._meta.db_table} ch ON ch.id = c.channel_id
                WHERE ch.code = %s AND c.active""",
            [channel_code],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    pk, kind, sealed, channel_id = found
    return Connector(
        pk=pk, kind=kind, webhook_secret_sealed=sealed, channel_id=channel_id, active=True
    )
