"""Products, locations, and stock as a ledger.

A `StockLevel` holds the balances of one product at one location; every
change of `on_hand` is a `StockMovement` written by `inventory.services` in
the same transaction, so `on_hand` always equals the sum of the movements.
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from core.model_fields import NaturalKeyCharField
from inventory.availability import (
    available_expression,
    expired_expression,
    reserved_expired,
    units_available,
)

# Limits kept once, here: the model's validators, its CHECK constraints and the API's
# serializers all read these (a serializer that allowed more than the database is a 500).
SKU_MAX_LENGTH = 64
LOCATION_CODE_MAX_LENGTH = 32
MAX_PROCESSING_DAYS = 60
MAX_HOLD_DAYS = 90
LATITUDE_LIMIT = 90
LONGITUDE_LIMIT = 180


class Product(models.Model):
    sku = NaturalKeyCharField("SKU", max_length=SKU_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=64, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(default=True)
    # A pre-order product is sold only against units purchase orders will deliver, never
    # from the shelves, and no more than `preorder_cap` units are promised in total.
    preorder = models.BooleanField(
        "pre-order",
        default=False,
        db_default=False,
        help_text="Sold only against incoming purchase orders, never from stock on hand.",
    )
    preorder_cap = models.PositiveIntegerField(
        "pre-order cap",
        default=0,
        db_default=0,
        help_text="The most units promised to pre-orders in total (orders not cancelled).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            # `ap-10001` beside `AP-10001` would be two products that people read as one.
            models.UniqueConstraint(
                Upper("sku"),
                name="product_sku_unique_ignoring_case",
                violation_error_message="A product with this SKU already exists "
                "(SKUs are compared ignoring case).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone (e.g. Europe/Paris).")


def weekdays_parse(value: str) -> frozenset[int]:
    """Return the ISO weekdays of a `closed_weekdays` value ("6,7" -> {6, 7})."""
    return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)


def validate_weekdays(value: str) -> None:
    parts = value.replace(" ", "").split(",") if value.strip() else []
    if not all(part.isdigit() and 1 <= int(part) <= 7 for part in parts):
        raise ValidationError(
            "ISO weekday numbers separated by commas: 1 = Monday ... 7 = Sunday (e.g. 6,7)."
        )
    if len(set(parts)) == 7:
        raise ValidationError("A location closed every day of the week can never serve.")


class Location(models.Model):
    """A place that holds stock: a warehouse, a store, or a third-party logistics provider."""

    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        STORE = "store", "Store"
        THIRD_PARTY = "third_party", "Third-party logistics"

    code = NaturalKeyCharField(max_length=LOCATION_CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WAREHOUSE)
    lat = models.FloatField(
        validators=[MinValueValidator(-LATITUDE_LIMIT), MaxValueValidator(LATITUDE_LIMIT)]
    )
    lon = models.FloatField(
        validators=[MinValueValidator(-LONGITUDE_LIMIT), MaxValueValidator(LONGITUDE_LIMIT)]
    )
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. FR.")
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    ships = models.BooleanField(default=True, help_text="Ships parcels to customers.")
    click_and_collect = models.BooleanField(default=False)
    priority = models.IntegerField(
        default=100, help_text="Lower is preferred by the 'priority' sourcing rule."
    )
    # The logistics costs the sourcing engine minimises (docs/sourcing.md).
    shipment_cost = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    cost_per_km = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    processing_days = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(MAX_PROCESSING_DAYS)],
        help_text="Open days between taking an order and dispatching it; 0 = the same day.",
    )
    cutoff_time = models.TimeField(
        default=time(14, 0),
        help_text="In the location's time zone: later orders count from the next open day.",
    )
    # The calendar of the delivery promise (orders.delivery.promise): ISO weekdays 1 (Monday)
    # to 7 (Sunday) on which the location neither prepares nor hands over, e.g. "7".
    closed_weekdays = models.CharField(
        max_length=13,
        blank=True,
        default="7",
        validators=[validate_weekdays],
        help_text="Days closed every week, ISO numbers: 1 = Monday ... 7 = Sunday (e.g. 7).",
    )
    hold_days = models.PositiveSmallIntegerField(
        "hold period (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HOLD_DAYS)],
        help_text="Click & collect: days an order ready for pickup waits before it is cancelled.",
    )
    opening_hours = models.TextField(
        blank=True, help_text="Told to click & collect customers, e.g. 'Mon-Sat 10:00-19:00'."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shipment_cost__gte=0) & Q(cost_per_km__gte=0) & Q(unit_cost__gte=0),
                name="location_costs_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(hold_days__gte=1)
                & Q(hold_days__lte=MAX_HOLD_DAYS)
                & Q(processing_days__lte=MAX_PROCESSING_DAYS),
                name="location_calendar_sane",
            ),
            models.UniqueConstraint(
                Upper("code"),
                name="location_code_unique_ignoring_case",
                violation_error_message="A location with this code already exists "
                "(codes are compared ignoring case).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def closed_weekday_set(self) -> frozenset[int]:
        return weekdays_parse(self.closed_weekdays)


class LocationClosedDay(models.Model):
    """A day a location is closed besides its weekly closing days: a public holiday, an
    inventory day. The delivery promise skips it."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField()
    reason = models.CharField(max_length=128, blank=True, help_text="e.g. Christmas Day.")

    class Meta:
        ordering = ["location_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["location", "date"], name="closed_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.location_id} closed {self.date}"


# Nothing left to sell, counting every unreleased reservation: the partial indexes'
# condition. An index condition cannot hold the rule's subquery, and the rule
# (inventory.availability) only ever finds more to sell than this, when reservations have
# expired; so a filter takes these rows through the index and then applies the rule to
# the few that hold reservations. PostgreSQL uses a partial index only for a query that
# repeats the index's condition: written once, for both.
STOCK_UNAVAILABLE = Q(on_hand__lte=F("allocated") + F("reserved") + F("safety_stock"))
# At or below safety stock: the same, at a row that holds some back.
STOCK_BELOW_SAFETY = Q(safety_stock__gt=0) & STOCK_UNAVAILABLE


class StockLevelQuerySet(models.QuerySet):
    def with_available(self) -> StockLevelQuerySet:
        """Annotate `reserved_expired` and `available_qty` (inventory.availability), so that
        `reserved_active` and `available` read them instead of querying per row."""
        if "available_qty" in self.query.annotations:
            return self
        return self.annotate(reserved_expired=expired_expression()).annotate(
            available_qty=available_expression(F("reserved_expired"))
        )

    def unavailable(self) -> StockLevelQuerySet:
        """Return the rows with nothing to sell."""
        return self.with_available().filter(STOCK_UNAVAILABLE, available_qty=0)

    def below_safety(self) -> StockLevelQuerySet:
        """Return the rows that hold safety stock back and have nothing to sell."""
        return self.with_available().filter(STOCK_BELOW_SAFETY, available_qty=0)

    def sellable(self) -> StockLevelQuerySet:
        """Return the rows with something to sell: those the index condition leaves out,
        and those it takes only because of expired reservations."""
        return self.with_available().filter(
            ~STOCK_UNAVAILABLE | Q(reserved__gt=0, available_qty__gt=0)
        )


class StockLevel(models.Model):
    """The balances of one product at one location. Change them only through services."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    safety_stock = models.IntegerField(default=0)
    # Where the units sit in the location (aisle-shelf-bin, e.g. "A-03-2"): pick lists are
    # sorted by it. A default in the database too: count files insert rows in plain SQL.
    bin = models.CharField(max_length=32, blank=True, default="", db_default="")
    # Returned units received damaged and kept aside: not on hand, never sold, but not lost
    # from sight either (returns.services).
    quarantined = models.IntegerField(default=0, db_default=0)
    # Units on their way here: shipped by a transfer from another location, not yet received.
    in_transit = models.IntegerField(default=0, db_default=0)
    # Units that open purchase orders will deliver here, not yet received.
    incoming = models.IntegerField(default=0, db_default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_one_row_per_place"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stock_safety_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quarantined__gte=0), name="stock_quarantined_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(in_transit__gte=0), name="stock_in_transit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(incoming__gte=0), name="stock_incoming_not_negative"
            ),
        ]
        indexes = [
            # Per-location pages and sweeps; (product, location) is covered by the unique index.
            models.Index(fields=["location", "product"], name="stock_location_product"),
            # The admin's "out of stock" filter: a few rows among millions.
            models.Index(fields=["product", "location"], condition=Q(on_hand=0), name="stock_out"),
            # Its "nothing available" and "below safety stock" filters, in the list's order.
            models.Index(
                fields=["product", "location"],
                condition=STOCK_UNAVAILABLE,
                name="stock_unavailable",
            ),
            models.Index(
                fields=["product", "location"],
                condition=STOCK_BELOW_SAFETY,
                name="stock_below_safety",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}"

    def expired_units(self) -> int:
        """Return the units of this row's expired reservations not yet swept. Read with
        `with_available()`, the row knows them; otherwise a row holding reservations asks
        the database once."""
        if self.reserved == 0:
            return 0
        if getattr(self, "reserved_expired", None) is None:
            self.reserved_expired = reserved_expired([self.pk]).get(self.pk, 0)
        return self.reserved_expired

    @property
    def reserved_active(self) -> int:
        """Units held by reservations still running: `reserved` counts every reservation
        not yet released, expired ones too until the sweep releases them."""
        return self.reserved - self.expired_units()

    @property
    def available(self) -> int:
        """Return the sellable units (inventory.availability)."""
        return units_available(
            on_hand=self.on_hand,
            allocated=self.allocated,
            reserved=self.reserved,
            safety_stock=self.safety_stock,
            reserved_expired=self.expired_units(),
        )


class StockMovement(models.Model):
    """One line of the append-only stock ledger: a signed change of `on_hand`."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        ADJUSTMENT = "adjustment", "Adjustment"
        DAMAGE = "damage", "Damage"
        TRANSFER_IN = "transfer_in", "Transfer in"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        COUNT = "count", "Count"
        SHIPMENT = "shipment", "Shipment"
        RETURN = "return", "Return"

    stock = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.IntegerField(help_text="Signed change of on hand.")
    on_hand_after = models.IntegerField()
    reference = models.CharField(max_length=128, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    # Movements written by one operation (the two sides of a transfer, one count file) share it.
    operation = models.UUIDField(default=uuid.uuid4, db_index=True)
    # For counts: when the shelf was counted; movements recorded later are re-applied on top.
    counted_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(on_hand_after__gte=0), name="movement_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(quantity=0) | Q(kind="count"), name="movement_not_zero_unless_count"
            ),
        ]
        indexes = [models.Index(fields=["stock", "created_at"], name="movement_stock_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} on stock {self.stock_id}"


class AllocationQuerySet(models.QuerySet):
    def open(self) -> AllocationQuerySet:
        return self.filter(status=Allocation.Status.OPEN)

    def holding(self) -> AllocationQuerySet:
        """Allocations that hold stock now or held it until it left: open or shipped."""
        return self.filter(status__in=[Allocation.Status.OPEN, Allocation.Status.SHIPPED])


class Allocation(models.Model):
    """Units of one stock row promised to one order line.

    `StockLevel.allocated` is the sum of the open allocations of that row;
    `stock_reconcile` checks it.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SHIPPED = "shipped", "Shipped"
        RELEASED = "released", "Released"

    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="allocations"
    )
    stock = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="allocations")
    fulfilment = models.ForeignKey(
        "fulfilment.Fulfilment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="allocations",
    )
    quantity = models.IntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    release_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_positive"
            ),
        ]
        indexes = [
            # Reconciliation sums open allocations per stock row.
            models.Index(
                fields=["stock"], condition=Q(status="open"), name="allocation_open_by_stock"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of stock {self.stock_id} for line {self.order_line_id}"


class StockCountImport(models.Model):
    """One uploaded stock count file and what became of it.

    Its SHA-256 makes a repeat upload of the same bytes answer with the first result
    instead of counting again; the admin's background path keeps its progress here.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be checked"
        CHECKING = "checking", "Checking"
        PREVIEWED = "previewed", "Ready to confirm"
        CONFIRMED = "confirmed", "Waiting to be applied"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Already applied"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        COMMAND = "command", "Command"

    digest = models.CharField("SHA-256", max_length=64, db_index=True)
    file_name = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # The uploaded bytes, kept while a background check or apply needs them.
    data = models.BinaryField(default=b"", editable=False)
    # When the shelves were counted, for rows without their own counted_at: the upload time.
    counted_at = models.DateTimeField()
    total_rows = models.IntegerField(default=0)
    applied_rows = models.IntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent, 0 to 100.")
    phase = models.CharField(max_length=255, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # Rows [row, sku, location, before, counted, later, after] as zlib-compressed JSON (a
    # tenth of the size, and of the time to write, of jsonb for 100,000 rows): what a
    # confirm would do (preview) and what it did (changes, given again to a repeat upload).
    preview = models.BinaryField(default=b"", editable=False)
    changes = models.BinaryField(default=b"", editable=False)
    # The ledger operation shared by the count movements of this file.
    operation = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The lease of a background check or apply: the running task moves it at each step
    # (outside its transaction; inside, the row lock it holds is the lease). A check or
    # apply whose heartbeat is older than OMS_JOB_LEASE_SECONDS lost its worker: the sweep
    # (inventory.tasks) restarts it, or fails it after MAX_ATTEMPTS runs.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Runs of its check or apply that a worker started."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same bytes are applied at most once, even by two concurrent uploads.
            models.UniqueConstraint(
                fields=["digest"],
                condition=Q(status="applied"),
                name="count_import_applied_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Stock count #{self.pk} {self.file_name}".strip()
