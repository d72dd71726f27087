"""Returns: units a customer sends back, their receipts at a location, and the refund."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from inventory.models import Location, Product
from orders.models import Order, OrderLine

REASONS_RETAILER_FAULT = ("damaged", "wrong_item", "not_as_described")


class Return(models.Model):
    """A customer's return of units of one order: its number is printed on the return slip."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    class Method(models.TextChoices):
        MAIL = "mail", "By mail"
        STORE = "store", "In a store"

    class Resolution(models.TextChoices):
        REFUND = "refund", "Refund"
        EXCHANGE = "exchange", "Exchange"

    number = models.CharField(max_length=16, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.REQUESTED)
    method = models.CharField(max_length=8, choices=Method.choices)
    resolution = models.CharField(
        max_length=16, choices=Resolution.choices, default=Resolution.REFUND
    )
    # Where the units are expected: the store they are brought to, the warehouse they are
    # mailed to. They may be received anywhere.
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    exchange_order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="exchange_for"
    )
    currency = models.CharField(max_length=3, default="EUR")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A location's work queue: returns expected, received, to refund.
            models.Index(fields=["location", "status", "created_at"], name="return_queue"),
            models.Index(fields=["status", "created_at"], name="return_status_created"),
        ]
        permissions = [("refund_return", "Can record the refund of a return")]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    """Units of one order line on a return, and what became of those received."""

    class Reason(models.TextChoices):
        DAMAGED = "damaged", "Damaged"
        WRONG_ITEM = "wrong_item", "Wrong item"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        TOO_SMALL = "too_small", "Too small"
        TOO_LARGE = "too_large", "Too large"
        CHANGED_MIND = "changed_mind", "Changed mind"
        OTHER = "other", "Other"

    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=24, choices=Reason.choices)
    received = models.PositiveIntegerField(default=0)
    restocked = models.PositiveIntegerField(default=0)
    damaged = models.PositiveIntegerField(default=0)
    disposed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["return_request_id", "line_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "line_no"], name="return_line_unique_no"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_line_quantity"),
            models.CheckConstraint(
                condition=Q(received__lte=F("quantity")), name="return_line_received_within"
            ),
            models.CheckConstraint(
                condition=Q(received=F("restocked") + F("damaged") + F("disposed")),
                name="return_line_received_disposed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id}#{self.line_no}"

    @property
    def retailer_fault(self) -> bool:
        return self.reason in REASONS_RETAILER_FAULT


class ReturnReceipt(models.Model):
    """One receiving of units of a return: who, where, when; its lines say what."""

    class Source(models.TextChoices):
        API = "api", "API"
        CONSOLE = "console", "Console"
        FILE = "file", "Returns file"

    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="receipts")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["location", "created_at"], name="return_receipt_location"),
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk} of {self.return_request_id}"


class ReturnReceiptLine(models.Model):
    class Disposition(models.TextChoices):
        RESTOCK = "restock", "Back to stock"
        DAMAGED = "damaged", "Damaged (quarantine)"
        DISPOSE = "dispose", "Disposed of"

    receipt = models.ForeignKey(ReturnReceipt, on_delete=models.CASCADE, related_name="lines")
    return_line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="receipts")
    quantity = models.PositiveIntegerField()
    disposition = models.CharField(max_length=8, choices=Disposition.choices)

    class Meta:
        ordering = ["receipt_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_receipt_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.disposition} on {self.return_line_id}"


class Refund(models.Model):
    """The refund of a return: recorded once (one row per return); the payment itself is
    made by whoever listens to `return.refunded`."""

    return_request = models.OneToOneField(Return, on_delete=models.CASCADE, related_name="refund")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # What the OMS computed from the received units; `amount` differs when a person set it.
    computed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="refund_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for {self.return_request_id}"
