"""Fulfilment requests: one per location per order."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from inventory.models import Location


class Fulfilment(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        SHIPPED = "shipped", "Shipped"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        COLLECTED = "collected", "Collected"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.REQUESTED, Status.ACCEPTED, Status.READY_FOR_PICKUP)

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="fulfilments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="fulfilments")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.REQUESTED)
    carrier = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=128, blank=True, db_index=True)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    # Who took the parcel at the counter when not the customer named on the order.
    collected_by = models.CharField(max_length=255, blank=True, default="", db_default="")
    # When the request went out in a file for a 3PL (export_fulfilments): sent once.
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one open request per location per order: units re-sourced to a
            # location join its pending request instead of making a second one.
            models.UniqueConstraint(
                fields=["order", "location"],
                condition=Q(status="requested"),
                name="fulfilment_one_request_per_location",
            ),
        ]
        indexes = [
            models.Index(fields=["location", "status", "created_at"], name="fulfilment_queue"),
            # The orders a location works on (console.queues.of_locations), the scope of
            # store staff's order lists and dashboard: read from the index alone.
            models.Index(fields=["location", "order"], name="fulfilment_location_order"),
            # The console's queues and the admin's status filter across every location, the
            # admin's newest-first list, and the dashboard's lead times (console).
            models.Index(fields=["status", "created_at"], name="fulfilment_status_created"),
            models.Index(fields=["created_at", "id"], name="fulfilment_created"),
            models.Index(
                fields=["shipped_at"],
                condition=Q(shipped_at__isnull=False),
                name="fulfilment_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"Fulfilment {self.pk} of {self.order_id} at {self.location_id}"


class RejectReason:
    """Why a location refuses, and what it says about its stock."""

    OUT_OF_STOCK = "out_of_stock"  # the shelf lacks the units: on hand was wrong
    DAMAGED = "damaged"  # the units are there but unsellable
    NO_CAPACITY = "no_capacity"  # the stock is fine; the location cannot process it now
    OTHER = "other"
    CHOICES = (OUT_OF_STOCK, DAMAGED, NO_CAPACITY, OTHER)
