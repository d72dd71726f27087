"""Channels, orders, their lines and their timeline."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from inventory.models import Location, Product, validate_weekdays

MAX_LINE_QUANTITY = 1_000_000
CHANNEL_CODE_MAX_LENGTH = 32
# Orders whose promise is still to keep: nothing, or not everything, has left yet.
PROMISE_OPEN_STATUSES = [
    "pending",
    "allocated",
    "partially_allocated",
    "backordered",
    "partially_shipped",
]


class Channel(models.Model):
    """A sales channel (web, app, store, marketplace ...)."""

    class Kind(models.TextChoices):
        WEB = "web", "Web shop"
        APP = "app", "App"
        STORE = "store", "Store"
        MARKETPLACE = "marketplace", "Marketplace"

    class ExchangeShipping(models.TextChoices):
        AT_ONCE = "at_once", "At once"
        WHEN_RECEIVED = "when_received", "When the return is received"

    code = models.SlugField(max_length=CHANNEL_CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WEB, db_default="web")
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
    pickup_transfer = models.BooleanField(
        "click & collect by transfer",
        default=False,
        help_text=(
            "When the pickup store lacks part of the basket, send it from a warehouse to the "
            "store (the promise includes the transfer) instead of refusing the order."
        ),
    )
    # A customer may return received units for this many days after the shipment (or the
    # collection) that brought them.
    return_days = models.PositiveSmallIntegerField(
        default=30,
        db_default=30,
        validators=[MaxValueValidator(3650)],
        help_text="Days after shipment or collection during which units may be returned.",
    )
    # At once trusts the customer to send the units back; waiting for them protects a
    # channel whose customers often do not (the exchange order holds its units meanwhile).
    exchange_shipping = models.CharField(
        "ship exchanges",
        max_length=16,
        choices=ExchangeShipping.choices,
        default=ExchangeShipping.AT_ONCE,
        db_default=ExchangeShipping.AT_ONCE,
        help_text="When the order an exchange places may ship: at once, or only once every "
        "unit of its return has been received.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(buffer_percent__gte=0) & Q(buffer_percent__lte=100),
                name="channel_buffer_percent_range",
            ),
            models.UniqueConstraint(
                Upper("code"),
                name="channel_code_unique_ignoring_case",
                violation_error_message="A channel with this code already exists "
                "(codes are compared ignoring case).",
            ),
        ]

    def __str__(self) -> str:
        return self.name


def external_id_is(value: str) -> Q:
    """Match orders whose channel id is `value`, in a form every plan can answer by index.

    Most orders of a shop's own channels carry no external id (''), so PostgreSQL's
    statistics say `external_id = $1` matches nearly every row. Once a connection has
    prepared such a lookup (server-side binding, oms/settings.py), its generic plan would
    scan the table behind a LIMIT; saying the id is not blank, in the words of the partial
    unique index, lets that index answer whatever the value.
    """
    return Q(external_id=value) & Q(_ExternalIdGiven("external_id"))


class _ExternalIdGiven(models.Func):
    # The blank is written into the statement, not bound as a parameter: only a literal
    # lets the planner see that the partial index's condition holds.
    template = "%(expressions)s <> ''"
    output_field = models.BooleanField()


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
    # How ship_lat/ship_lon were had: sent with the order, or placed from the postcode or
    # the city (orders.places); blank: no coordinates, or an order older than the column.
    ship_placed_by = models.CharField(
        max_length=8,
        choices=[("given", "Sent with the order"), ("postcode", "Postcode"), ("city", "City")],
        blank=True,
        default="",
        db_default="",
    )
    delivery_method = models.CharField(
        max_length=24, choices=DeliveryMethod.choices, default=DeliveryMethod.STANDARD
    )
    pickup_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="pickup_orders"
    )
    currency = models.CharField(max_length=3, default="EUR")
    # The delivery option the customer was quoted (orders.delivery): its date and its price.
    promised_date = models.DateField(null=True, blank=True)
    # An order the shelves could not fill, promised against incoming supply: the date the
    # customer was told when it was placed. A purchase order moved later moves
    # `promised_date` past it (the promise is broken, orders.selectors.orders_at_risk); moved
    # back, or received, the promise is kept again.
    promised_to_customer = models.DateField(null=True, blank=True)
    shipping_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Click & collect: when the "ready for pickup" e-mail went out (claimed once, see
    # orders.services.pickup).
    pickup_notified_at = models.DateTimeField(null=True, blank=True)
    # Click & collect: the code the customer shows at the counter (orders.services.pickup),
    # given when the order is first ready for pickup.
    pickup_code = models.CharField(max_length=12, blank=True, default="", db_default="")
    # What sourcing says the chosen locations cost us (logistics, not the customer's price).
    logistics_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    sourcing_attempts = models.PositiveSmallIntegerField(default=0)
    needs_attention = models.BooleanField(default=False, help_text="In the customer-service queue.")
    attention_reason = models.CharField(max_length=255, blank=True)
    # Why the order must not leave yet (an exchange waiting for its return): its units stay
    # allocated and may be prepared, but it is not shipped or handed over until released.
    held_for = models.CharField(max_length=255, blank=True, default="", db_default="")
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
            # The admin's delivery-method filter, newest first.
            models.Index(fields=["delivery_method", "created_at"], name="order_method_created"),
            models.Index(
                fields=["created_at"], condition=Q(needs_attention=True), name="order_attention"
            ),
            # orders_at_risk: open orders by promised date.
            models.Index(
                fields=["promised_date"],
                condition=Q(status__in=PROMISE_OPEN_STATUSES),
                name="order_promise_open",
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
    # Units named by the order's returns that are not cancelled (returns.services).
    quantity_returned = models.PositiveIntegerField(default=0, db_default=0)

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
            # Never more units returned than the customer received.
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=models.F("quantity_shipped")),
                name="order_line_returned_within_shipped",
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
        RETURN_REQUESTED = "return_requested", "Return requested"
        RETURN_RECEIVED = "return_received", "Return received"
        RETURN_REFUNDED = "return_refunded", "Refund recorded"
        RETURN_CANCELLED = "return_cancelled", "Return cancelled"
        RELEASED_TO_SHIP = "released_to_ship", "Released to ship"
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


# Delivery options: carriers, their transit times, and what each method costs the customer.


class CarrierService(models.Model):
    """A carrier's service for one delivery method, e.g. "Colissimo 48h" for standard.

    Transit days come from its bands by distance; the promise takes the fastest active
    service of a method that reaches the distance.
    """

    class Method(models.TextChoices):
        # A same-day courier: beyond the same-day radius (or past the cut-off) a same-day
        # order is promised by the fastest same-day or express service.
        SAME_DAY = "same_day", "Same day"
        EXPRESS = "express", "Express"
        STANDARD = "standard", "Standard"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    method = models.CharField(max_length=16, choices=Method.choices)
    active = models.BooleanField(default=True)
    # ISO weekdays the carrier does not deliver on (as Location.closed_weekdays).
    closed_weekdays = models.CharField(
        max_length=13,
        blank=True,
        default="7",
        validators=[validate_weekdays],
        help_text="Days it does not deliver, ISO numbers: 1 = Monday ... 7 = Sunday (e.g. 7).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["method", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_method_display()})"


class TransitBand(models.Model):
    """Up to `max_km` from the shipping location, the service delivers in `days` of its
    delivery days after dispatch. Farther than its last band, the service does not go."""

    service = models.ForeignKey(CarrierService, on_delete=models.CASCADE, related_name="bands")
    max_km = models.PositiveIntegerField(
        "up to (km)", validators=[MinValueValidator(1), MaxValueValidator(20_000)]
    )
    days = models.PositiveSmallIntegerField(
        "transit days", validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        ordering = ["service_id", "max_km"]
        constraints = [
            models.UniqueConstraint(fields=["service", "max_km"], name="transit_band_once"),
            models.CheckConstraint(
                condition=Q(max_km__gte=1) & Q(days__gte=1) & Q(days__lte=60),
                name="transit_band_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"≤ {self.max_km} km: {self.days} day(s)"


class DeliveryPrice(models.Model):
    """What one delivery method costs the customers of one channel: a flat price, free from
    a basket value. A method with no price for a channel is not offered on it."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="delivery_prices")
    method = models.CharField(max_length=24, choices=Order.DeliveryMethod.choices)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    free_above = models.DecimalField(
        "free from basket value",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Baskets worth at least this much get the method free; empty: never free.",
    )
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217, e.g. EUR.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel_id", "method"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "method"], name="delivery_price_once"),
            models.CheckConstraint(
                condition=Q(price__gte=0) & (Q(free_above__isnull=True) | Q(free_above__gte=0)),
                name="delivery_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.method}: {self.price} {self.currency}"


# Reservations: a basket holds stock before payment.


class Reservation(models.Model):
    """Units held for a basket until `expires_at`; an order that names it consumes it.

    Its lines raise `StockLevel.reserved` while it is active. Once past `expires_at` its
    units are sellable again at once (availability leaves them out), and the sweep
    (`reservations_expire`) releases them for good.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CONSUMED = "consumed", "Consumed by an order"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    # The id integrations see: not guessable, not a database id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="reservations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="reservations"
    )
    release_reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="active"), name="reservation_due"
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)


class ReservationLine(models.Model):
    """Units of one stock row held by a reservation.

    `expires_at` and `active` repeat the reservation's, so that availability finds the
    expired units of a stock row with one index probe, no join.
    """

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    stock = models.ForeignKey(
        "inventory.StockLevel", on_delete=models.PROTECT, related_name="reservation_lines"
    )
    quantity = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["reservation_id", "line_no", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="reservation_line_quantity_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["stock", "expires_at"],
                condition=Q(active=True),
                name="reservation_line_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of stock {self.stock_id} for {self.reservation_id}"
