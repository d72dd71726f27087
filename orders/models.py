"""Channels, orders, their lines and their timeline."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from inventory.models import Location, Product

MAX_LINE_QUANTITY = 1_000_000


class Channel(models.Model):
    """A sales channel (web, app, store, marketplace ...)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="channels",
        help_text="Locations that may serve this channel; none means every active location.",
    )
    # Held back from this channel so it never sells the last units (e.g. a marketplace).
    buffer_units = models.PositiveIntegerField(default=0)
    buffer_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(buffer_percent__gte=0) & Q(buffer_percent__lte=100),
                name="channel_buffer_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ALLOCATED = "allocated", "Allocated"
        PARTIALLY_ALLOCATED = "partially_allocated", "Partially allocated"
        BACKORDERED = "backordered", "Backordered"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        COLLECTED = "collected", "Collected"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    class DeliveryMethod(models.TextChoices):
        CLICK_AND_COLLECT = "click_and_collect", "Click & collect"
        SAME_DAY = "same_day", "Same day"
        EXPRESS = "express", "Express"
        STANDARD = "standard", "Standard"

    number = models.CharField(max_length=16, unique=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    customer_email = models.EmailField(blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    customer_phone = models.CharField(max_length=32, blank=True)
    # Digits only, so "+33 6 12 34 56 78" and "0033612345678" find the same order.
    customer_phone_digits = models.CharField(max_length=32, blank=True)
    ship_line1 = models.CharField(max_length=255, blank=True)
    ship_line2 = models.CharField(max_length=255, blank=True)
    ship_city = models.CharField(max_length=128, blank=True)
    ship_postcode = models.CharField(max_length=16, blank=True)
    ship_country = models.CharField(max_length=2, blank=True)
    ship_lat = models.FloatField(null=True, blank=True)
    ship_lon = models.FloatField(null=True, blank=True)
    delivery_method = models.CharField(
        max_length=24, choices=DeliveryMethod.choices, default=DeliveryMethod.STANDARD
    )
    pickup_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="pickup_orders"
    )
    currency = models.CharField(max_length=3, default="EUR")
    promised_date = models.DateField(null=True, blank=True)
    shipping_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # What sourcing says the chosen locations cost us (logistics, not the customer's price).
    logistics_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    sourcing_attempts = models.PositiveSmallIntegerField(default=0)
    needs_attention = models.BooleanField(default=False, help_text="In the customer-service queue.")
    attention_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="order_unique_external_id_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["customer_email"], name="order_email"),
            models.Index(fields=["customer_phone_digits"], name="order_phone"),
            models.Index(fields=["external_id"], name="order_external_id"),
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            models.Index(fields=["channel", "created_at"], name="order_channel_created"),
            models.Index(
                fields=["created_at"], condition=Q(needs_attention=True), name="order_attention"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LINE_QUANTITY)]
    )
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_unique_no"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="order_line_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    quantity_shipped__lte=models.F("quantity") - models.F("quantity_cancelled")
                ),
                name="order_line_shipped_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.line_no}"

    @property
    def quantity_open(self) -> int:
        """Units still wanted: ordered, less cancelled."""
        return self.quantity - self.quantity_cancelled


class OrderEvent(models.Model):
    """One entry of an order's timeline, written in the transaction of the change it tells."""

    class Kind(models.TextChoices):
        CREATED = "created", "Order received"
        ALLOCATED = "allocated", "Stock allocated"
        BACKORDERED = "backordered", "Waiting for stock"
        FULFILMENT_REQUESTED = "fulfilment_requested", "Sent to location"
        FULFILMENT_ACCEPTED = "fulfilment_accepted", "Accepted by location"
        FULFILMENT_REJECTED = "fulfilment_rejected", "Rejected by location"
        SHIPPED = "shipped", "Shipped"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        COLLECTED = "collected", "Collected"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        LINE_CANCELLED = "line_cancelled", "Line cancelled"
        RELEASED = "released", "Stock released"
        STATUS_CHANGED = "status_changed", "Status changed"
        NEEDS_ATTENTION = "needs_attention", "Sent to customer service"
        NOTE = "note", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Shown to the customer on the tracking page; internal notes are not.
    public = models.BooleanField(default=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="order_event_order_time")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed to its retries.

    Inserted before the request runs, as a claim (`response_status` null: in
    progress); the unique (user, key) makes a concurrent twin find it instead of
    running too. See `oms.api.idempotency`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # "POST /api/v1/stock/movements/": a key is for one request, not one per endpoint.
    endpoint = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The JSON text as first sent: jsonb would reorder its keys.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the request now running took the claim; a claim left by a dead worker is retaken.
    claimed_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_record_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.endpoint})"
