"""Transfers of stock between locations, and purchase orders: supply on its way.

A `Transfer` holds its units at the location it leaves from (they count in `allocated`
there) from the moment it is requested, ships them out of that location's `on_hand`
(ledger `transfer_out`) into `in_transit` at the location it goes to, and is received there
(ledger `transfer_in`). A receipt short of what shipped closes the transfer with the
shortfall recorded on its lines (`quantity - received`): a discrepancy, with an alert.

A `PurchaseOrder` counts its open units in `incoming` at its location until they are
received (ledger `receipt`, the purchase order's number as reference).

The counters move only through inventory's services (inventory.services.supply).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.model_fields import NaturalKeyCharField
from inventory.models import Location, Product

MAX_LINE_QUANTITY = 1_000_000
MAX_LINES = 1_000
NUMBER_MAX_LENGTH = 32


class Transfer(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SHIPPED = "shipped", "Shipped"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    # The statuses each status may become.
    TRANSITIONS = {
        Status.REQUESTED: {Status.SHIPPED, Status.CANCELLED},
        Status.SHIPPED: {Status.RECEIVED},
        Status.RECEIVED: set(),
        Status.CANCELLED: set(),
    }

    number = models.CharField(max_length=NUMBER_MAX_LENGTH, unique=True)
    source = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    reference = models.CharField(max_length=128, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A click & collect order whose pickup store this transfer brings units to: on receipt
    # they are allocated to it at the store (supply.pickup).
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pickup_transfers",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_between_two_locations"
            ),
        ]
        indexes = [
            models.Index(fields=["source", "status"], name="transfer_source_status"),
            models.Index(fields=["destination", "status"], name="transfer_destination_status"),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.number}"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()
    received = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transfer_line_one_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="transfer_line_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(received__gte=0) & Q(received__lte=F("quantity")),
                name="transfer_line_received_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id} on transfer {self.transfer_id}"

    @property
    def missing(self) -> int:
        """Units shipped and not received, once the transfer is closed: its discrepancy."""
        return self.quantity - self.received


class TransferForOrder(models.Model):
    """Units of a transfer line bound for an order line (click & collect by transfer), and
    how many of them were allocated to it at the store once received."""

    transfer_line = models.ForeignKey(
        TransferLine, on_delete=models.CASCADE, related_name="for_orders"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="pickup_transfers"
    )
    quantity = models.IntegerField()
    allocated = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer_line", "order_line"], name="transfer_for_order_one_per_line"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="transfer_for_order_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("quantity")),
                name="transfer_for_order_allocated_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.transfer_line_id} for {self.order_line_id}"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.OPEN, Status.PARTIALLY_RECEIVED)

    number = NaturalKeyCharField(max_length=NUMBER_MAX_LENGTH, unique=True)
    supplier = models.CharField(max_length=255)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="purchase_orders")
    expected_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expected_on", "id"]
        indexes = [
            models.Index(
                fields=["location", "expected_on"],
                condition=Q(status__in=["open", "partially_received"]),
                name="purchase_order_open_by_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Purchase order {self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()
    # May pass `quantity`: a supplier delivering more than ordered (flagged as over-received).
    received = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "product"], name="purchase_order_line_one_sku"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="purchase_order_line_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(received__gte=0), name="purchase_order_line_received_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["product"], name="purchase_order_line_product")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id} on {self.purchase_order_id}"

    @property
    def outstanding(self) -> int:
        """Units still expected: ordered and not yet received (0 once over-received)."""
        return max(0, self.quantity - self.received)

    @property
    def over_received(self) -> int:
        return max(0, self.received - self.quantity)


class PurchasePromise(models.Model):
    """Incoming units of a purchase-order line promised to an order line that the shelves
    could not fill. Open promises of a line never exceed what it still expects
    (`quantity - received`): no incoming unit is promised twice."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FULFILLED = "fulfilled", "Received"
        RELEASED = "released", "Released"

    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.CASCADE, related_name="promises"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="purchase_promises"
    )
    quantity = models.IntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchase_promise_quantity_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["purchase_order_line"],
                condition=Q(status="open"),
                name="purchase_promise_open_by_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.purchase_order_line_id} for {self.order_line_id}"


class ReplenishmentRun(models.Model):
    """One pass of "replenish stores": the transfers it proposes wait for a person.

    A run replaces the proposals of earlier runs that nobody confirmed: they were worked out
    from stock that has moved since.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What it found: store rows under their reorder line, the units they lack, and how
    # many of those units no location could spare.
    short_rows = models.IntegerField(default=0)
    short_units = models.IntegerField(default=0)
    unmet_units = models.IntegerField(default=0)
    proposals = models.IntegerField(default=0)
    lines = models.IntegerField(default=0)
    units = models.IntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Replenishment run #{self.pk}"


class ReplenishmentProposal(models.Model):
    """A transfer that a run proposes from one location to one store, for a person to
    confirm (the real transfer is then requested) or dismiss."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"
        SUPERSEDED = "superseded", "Replaced by a later run"

    run = models.ForeignKey(ReplenishmentRun, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    lines = models.IntegerField()
    units = models.IntegerField()
    # The lane's cost as sourcing prices it: the source's shipment cost, its cost per km over
    # the distance, and its unit cost for each unit.
    cost = models.DecimalField(max_digits=14, decimal_places=2)
    distance_km = models.FloatField()
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposal"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["destination_id", "cost", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "source", "destination"], name="replenishment_one_per_lane"
            ),
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="replenishment_between_two_locations"
            ),
        ]
        indexes = [
            models.Index(
                fields=["destination"],
                condition=Q(status="proposed"),
                name="replenishment_open_by_store",
            ),
        ]

    def __str__(self) -> str:
        return f"Proposal #{self.pk}: {self.source_id} to {self.destination_id}"


class ReplenishmentLine(models.Model):
    proposal = models.ForeignKey(
        ReplenishmentProposal, on_delete=models.CASCADE, related_name="proposed_lines"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()
    # The store's position when the run looked (available, in transit and already requested
    # towards it) and the target the line brings it to.
    position = models.IntegerField()
    target = models.IntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "product"], name="replenishment_line_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="replenishment_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id} on proposal {self.proposal_id}"
