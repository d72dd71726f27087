"""Storefronts connected to channels, and the inbox of what they send.

`Connector`: one per channel, the storefront's kind, address and credentials (sealed,
connectors.sealing), and which remote location each OMS location is. `StorefrontOrder`:
every webhook accepted, raw, stored before anything is made of it, with what became of
it; those that could not become an order wait in the console's "storefront orders to fix".
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from connectors.sealing import secret_open
from inventory.models import Location
from orders.models import Channel, Order

LAST_FOUR = 4


class Connector(models.Model):
    class Kind(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="connector")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Checked by core.outbound when set and again before every call out.
    base_url = models.URLField(max_length=500)
    # Sealed (connectors.sealing): never stored, logged or shown in clear.
    webhook_secret_sealed = models.TextField()
    access_token_sealed = models.TextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel__code"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.channel_id}"

    def webhook_secret(self) -> str:
        return secret_open(self.webhook_secret_sealed)

    def access_token(self) -> str:
        return secret_open(self.access_token_sealed)

    def last_four(self, secret: str) -> str:
        """Return the last four characters of `webhook_secret` or `access_token`: all a
        person or an answer is ever shown of them."""
        opener = {"webhook_secret": self.webhook_secret, "access_token": self.access_token}
        return opener[secret]()[-LAST_FOUR:]


class ConnectorLocation(models.Model):
    """An OMS location and the storefront's id for it: stock is sent for mapped ones only."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="locations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    remote_id = models.CharField(max_length=128)

    class Meta:
        ordering = ["connector_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "location"], name="connector_location_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location_id} → {self.remote_id}"


class StorefrontOrder(models.Model):
    """One webhook a storefront sent about an order, as it came, and what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        APPLIED = "applied", "Applied"
        TO_FIX = "to_fix", "To fix"
        IGNORED = "ignored", "Ignored"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="inbox")
    topic = models.CharField(max_length=64)
    # The storefront's id of this delivery: the same one twice is stored once.
    webhook_id = models.CharField(max_length=128, blank=True)
    remote_order_id = models.CharField(max_length=128, blank=True)
    # When the storefront last changed the order, as this body says: webhooks arrive in any
    # order, and an older version is not applied over a newer one.
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    # The body exactly as signed: what a replay reads again.
    body = models.BinaryField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="storefront_orders"
    )
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    # A worker is applying it until then (connectors.services.inbound): another leaves it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "webhook_id"],
                condition=~Q(webhook_id=""),
                name="storefront_order_webhook_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(status__in=["received", "to_fix"]),
                name="storefront_order_open",
            ),
            models.Index(fields=["connector", "remote_order_id"], name="storefront_order_remote"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.remote_order_id or '?'}"


# What the OMS owes each storefront (shipments, stock figures, remote ids, health): its own
# module, registered with the app's models here.
from connectors.outbound_models import (  # noqa: E402
    ConnectorHealth,
    RemoteRef,
    ShipmentPush,
    StockSync,
)

__all__ = [
    "Connector",
    "ConnectorHealth",
    "ConnectorLocation",
    "RemoteRef",
    "ShipmentPush",
    "StockSync",
    "StorefrontOrder",
]
