"""Alert rules and the alerts they raise.

An `Alert` is one condition about one subject (a stock row, a product across the network,
an order, a fulfilment, a webhook subscription), with a lifecycle: open, then acknowledged
by a person, then resolved (by a person, or on its own when the condition clears). A
partial unique index keeps at most one unresolved alert per kind and subject, so a
condition that stays true is one alert however many times it is evaluated.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from inventory.models import Location, Product


class Scope(models.TextChoices):
    """How specific a rule is; the most specific rule that sets a figure wins."""

    PLACE = "place", "Product at a location"
    PRODUCT = "product", "Product, every location"
    LOCATION = "location", "Location, every product"
    GLOBAL = "global", "Everything"


def scope_of(*, product_id: int | None, location_id: int | None) -> str:
    if product_id and location_id:
        return Scope.PLACE
    if product_id:
        return Scope.PRODUCT
    if location_id:
        return Scope.LOCATION
    return Scope.GLOBAL


def channel_scope_of(*, product_id: int | None, channel_id: int | None) -> str:
    if product_id and channel_id:
        return ChannelScope.PAIR
    if product_id:
        return ChannelScope.PRODUCT
    if channel_id:
        return ChannelScope.CHANNEL
    return ChannelScope.GLOBAL


# Limits of a rule, for the model's validators and the API's serializers alike.
MAX_THRESHOLD = 2_000_000_000
MAX_LEAD_TIME_DAYS = 365


class StockRule(models.Model):
    """A low-stock threshold (and lead time) for a product at a location, or a default.

    Blank product or location make a default: for a stock row the figures come from the
    rule for that product at that location, else the product's rule, else the
    location's, else the global one (a product's own rule knows its sales better than a
    blanket location default).
    """

    scope = models.CharField(max_length=16, choices=Scope.choices, editable=False)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="stock_rules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="stock_rules"
    )
    threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_THRESHOLD)],
        help_text="Alert when available falls to or below this. Blank: use a less specific rule.",
    )
    lead_time_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_LEAD_TIME_DAYS)],
        help_text="Days a replenishment takes to arrive here. Blank: a less specific rule's, "
        "or the policy default.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope", "product_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "location"],
                condition=Q(scope="place"),
                name="stock_rule_one_per_place",
            ),
            models.UniqueConstraint(
                fields=["product"], condition=Q(scope="product"), name="stock_rule_one_per_product"
            ),
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(scope="location"),
                name="stock_rule_one_per_location",
            ),
            models.UniqueConstraint(
                fields=["scope"], condition=Q(scope="global"), name="stock_rule_one_global"
            ),
            models.CheckConstraint(
                condition=(
                    Q(scope="place", product__isnull=False, location__isnull=False)
                    | Q(scope="product", product__isnull=False, location__isnull=True)
                    | Q(scope="location", product__isnull=True, location__isnull=False)
                    | Q(scope="global", product__isnull=True, location__isnull=True)
                ),
                name="stock_rule_scope_matches",
            ),
        ]

    def __str__(self) -> str:
        product = self.product.sku if self.product_id else "every product"
        location = self.location.code if self.location_id else "every location"
        return f"{product} @ {location}"

    def clean(self) -> None:
        # The scope follows from which of product and location are set (forms, imports).
        self.scope = scope_of(product_id=self.product_id, location_id=self.location_id)


class ChannelScope(models.TextChoices):
    PAIR = "pair", "Product in a channel"
    PRODUCT = "product", "Product, whole network"
    CHANNEL = "channel", "Channel, every product"
    GLOBAL = "global", "Every product, whole network"


class NetworkRule(models.Model):
    """A threshold on a product's total available across the network, or for one channel.

    Without a channel the rule watches the whole network (the product's rule, else the
    global one); with a channel, what that channel may sell (its locations, its buffer held
    back): the rule for the product in that channel, else the channel's.
    """

    scope = models.CharField(max_length=16, choices=ChannelScope.choices, editable=False)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="network_rules"
    )
    channel = models.ForeignKey(
        "orders.Channel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="network_rules",
    )
    threshold = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope", "product_id", "channel_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "channel"],
                condition=Q(scope="pair"),
                name="network_rule_one_per_pair",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(scope="product"),
                name="network_rule_one_per_product",
            ),
            models.UniqueConstraint(
                fields=["channel"],
                condition=Q(scope="channel"),
                name="network_rule_one_per_channel",
            ),
            models.UniqueConstraint(
                fields=["scope"], condition=Q(scope="global"), name="network_rule_one_global"
            ),
            models.CheckConstraint(
                condition=(
                    Q(scope="pair", product__isnull=False, channel__isnull=False)
                    | Q(scope="product", product__isnull=False, channel__isnull=True)
                    | Q(scope="channel", product__isnull=True, channel__isnull=False)
                    | Q(scope="global", product__isnull=True, channel__isnull=True)
                ),
                name="network_rule_scope_matches",
            ),
        ]

    def __str__(self) -> str:
        product = self.product.sku if self.product_id else "every product"
        channel = self.channel.code if self.channel_id else "the whole network"
        return f"{product} in {channel}"

    def clean(self) -> None:
        self.scope = channel_scope_of(product_id=self.product_id, channel_id=self.channel_id)


class AlertPolicy(models.Model):
    """The figures every rule shares: one row, edited in the admin."""

    velocity_window_days = models.PositiveSmallIntegerField(
        default=28,
        validators=[MinValueValidator(1)],
        help_text="Sales velocity is the units shipped over this many days, per day.",
    )
    lead_time_days = models.PositiveSmallIntegerField(
        default=7, help_text="Replenishment lead time where no stock rule sets one."
    )
    cover_margin_days = models.PositiveSmallIntegerField(
        default=3, help_text="Alert when days of cover fall under the lead time plus this."
    )
    cover_hysteresis_days = models.PositiveSmallIntegerField(
        default=2,
        help_text="A days-of-cover alert resolves only once cover is this much above its "
        "trigger, so stock hovering at the line does not open and close it all day.",
    )
    review_days = models.PositiveSmallIntegerField(
        default=14, help_text="A suggested reorder covers the lead time, margin and this."
    )
    unaccepted_hours = models.PositiveSmallIntegerField(
        default=4, help_text="Alert on a fulfilment request not accepted within this."
    )
    backorder_days = models.PositiveSmallIntegerField(
        default=3, help_text="Alert on an order backordered for longer than this."
    )
    late_order_days_ahead = models.PositiveSmallIntegerField(
        default=0,
        help_text="Alert on unshipped orders promised within this many days (0: due today).",
    )
    return_receipt_days = models.PositiveSmallIntegerField(
        default=14,
        db_default=14,
        validators=[MinValueValidator(1)],
        help_text="Alert on a return whose units have not all arrived this many days after "
        "it was made.",
    )
    return_refund_days = models.PositiveSmallIntegerField(
        default=3,
        db_default=3,
        help_text="Alert on a return received this many days ago whose refund is not recorded.",
    )
    return_rate_percent = models.PositiveSmallIntegerField(
        default=25,
        db_default=25,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Alert on a product whose units returned over the last 30 days pass this "
        "share of its units shipped in them.",
    )
    return_rate_min_shipped = models.PositiveIntegerField(
        default=20,
        db_default=20,
        help_text="A product's return rate counts once it shipped at least this many units "
        "in those 30 days: two returns of three units say nothing yet.",
    )
    reopen_quiet_minutes = models.PositiveIntegerField(
        default=60,
        help_text="A condition back within this time after clearing reopens the same alert, "
        "quietly (no new e-mail or event), instead of a new one.",
    )
    digest_interval_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="At most one alert e-mail per person per this interval.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "alert policy"
        verbose_name_plural = "alert policy"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="alert_policy_one_row")]

    def __str__(self) -> str:
        return "Alert policy"

    @classmethod
    def current(cls) -> AlertPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class AlertQuerySet(models.QuerySet):
    def unresolved(self) -> AlertQuerySet:
        return self.exclude(status=Alert.Status.RESOLVED)

    def awake(self, now) -> AlertQuerySet:
        """Not snoozed at `now`."""
        return self.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))


class Alert(models.Model):
    class Kind(models.TextChoices):
        LOW_STOCK = "low_stock", "Low stock"
        DAYS_OF_COVER = "days_of_cover", "Days of cover"
        NETWORK_LOW_STOCK = "network_low_stock", "Low stock across the network"
        LATE_ORDER = "late_order", "Order will miss its promised date"
        UNACCEPTED_FULFILMENT = "unaccepted_fulfilment", "Fulfilment not accepted"
        BACKORDER = "backorder", "Backorder waiting too long"
        STOCK_DRIFT = "stock_drift", "Stock drift"
        WEBHOOK_DEAD = "webhook_dead", "Webhook events undelivered"
        TRANSFER_DISCREPANCY = "transfer_discrepancy", "Transfer received short"
        RETURN_NOT_RECEIVED = "return_not_received", "Return not received"
        RETURN_NOT_REFUNDED = "return_not_refunded", "Return waiting for its refund"
        RETURN_RATE = "return_rate", "Product returned often"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        CLEARED = "cleared", "Condition cleared"
        MANUAL = "manual", "Resolved by a person"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    # What the alert is about, unique per kind among unresolved alerts: "<product>@<location>",
    # "<product>", "<product>#<channel>", "<order>", "<fulfilment>", "<subscription>",
    # "<return>" ids.
    subject = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    # The figures that raised it, kept current while it is unresolved.
    details = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    # Times the condition came back within the quiet period and reopened this alert.
    reopened = models.PositiveIntegerField(default=0)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=~Q(status="resolved"),
                name="alert_one_unresolved_per_subject",
            ),
        ]
        indexes = [
            models.Index(
                fields=["location", "opened_at"],
                condition=~Q(status="resolved"),
                name="alert_unresolved_by_location",
            ),
            models.Index(fields=["kind", "status", "opened_at"], name="alert_kind_status"),
            # The quiet reopen looks for a subject's alert resolved a moment ago.
            models.Index(
                fields=["kind", "subject", "resolved_at"],
                condition=Q(status="resolved"),
                name="alert_resolved_by_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class DigestReceipt(models.Model):
    """When a person last got an alert e-mail: the claim that keeps it to one per interval."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_digest"
    )
    sent_at = models.DateTimeField()
    alerts = models.PositiveIntegerField(default=0, help_text="Alerts in the last e-mail.")

    def __str__(self) -> str:
        return f"{self.user} at {self.sent_at:%Y-%m-%d %H:%M}"


class Watermark(models.Model):
    """How far an incremental evaluation has read (stock rows changed since `at`)."""

    name = models.CharField(max_length=32, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
