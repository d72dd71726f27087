"""What the OMS owes each connected storefront, kept until the storefront has it.

The storefront's side of the outbox: rows written from committed events (the outbox's own
rows, read by `connectors.producer`), claimed by one sender at a time, and cleared only by
the storefront's 2xx answer.

* `ShipmentPush`: one per connector and fulfilment shipped, unique: a shipment is told once.
* `StockSync`: one per connector and SKU, for as long as the SKU lives. A change marks it
  dirty and bumps `version`; a hundred changes before the sender comes are one push, of
  the figure as it is when sent. A push clears the row only if no change came while it was
  on its way (`version` still the one it read): otherwise it goes again.
* `RemoteRef`: what the storefront calls a SKU (its variant, inventory item, product ids),
  looked up once and kept until the storefront answers "not found".
* `ConnectorHealth`: per connector, when it last answered, what went wrong, how long it
  asked us to wait, and how far reconciliation has read its orders.

The tables name the connector by string: this module is imported at the end of
`connectors.models`, after `Connector`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class RemoteRef(models.Model):
    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="remote_refs"
    )
    sku = models.CharField(max_length=64)
    product_id = models.CharField(max_length=128, blank=True)
    variant_id = models.CharField(max_length=128, blank=True)
    inventory_item_id = models.CharField(max_length=128, blank=True)
    # The storefront does not sell this SKU (it answered without it): nothing to send until
    # it is looked up again (a full stock push looks every SKU up afresh).
    missing = models.BooleanField(default=False)
    looked_up_at = models.DateTimeField()

    class Meta:
        ordering = ["connector_id", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "sku"], name="remote_ref_one_per_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} → {self.inventory_item_id or self.product_id or '?'}"


class StockSync(models.Model):
    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="stock_syncs"
    )
    sku = models.CharField(max_length=64)
    dirty = models.BooleanField(default=True)
    # Raised by every change; a push clears `dirty` only if it is still the version it read.
    version = models.PositiveBigIntegerField(default=1)
    # Send even when the figure equals the one last sent (a full push: the storefront's own
    # figure may have drifted).
    forced = models.BooleanField(default=False)
    changed_at = models.DateTimeField()
    next_try_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    # {remote location id: units} as last accepted by the storefront.
    pushed = models.JSONField(default=dict, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connector_id", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "sku"], name="stock_sync_one_per_sku"),
        ]
        indexes = [
            models.Index(
                fields=["connector", "next_try_at"],
                condition=Q(dirty=True),
                name="stock_sync_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({'to send' if self.dirty else 'sent'})"


class ShipmentPush(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        DONE = "done", "Done"

    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="shipment_pushes"
    )
    fulfilment = models.ForeignKey(
        "fulfilment.Fulfilment", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    # What the storefront made of it, for people ("fulfilled as gid://...").
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "fulfilment"], name="shipment_push_once_per_fulfilment"
            ),
        ]
        indexes = [
            models.Index(
                fields=["connector", "next_try_at"],
                condition=Q(status="waiting"),
                name="shipment_push_due",
            ),
        ]

    def __str__(self) -> str:
        return f"fulfilment {self.fulfilment_id} ({self.status})"


class ConnectorHealth(models.Model):
    connector = models.OneToOneField(
        "connectors.Connector", on_delete=models.CASCADE, related_name="health"
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Calls in a row that found the storefront down: the next probe waits longer each time.
    failures = models.PositiveIntegerField(default=0)
    # No call before this: the storefront asked us to slow down, or is down.
    paused_until = models.DateTimeField(null=True, blank=True)
    # Reconciliation has read the storefront's orders updated up to this moment.
    reconciled_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "connector health"

    def __str__(self) -> str:
        return f"health of connector {self.connector_id}"
