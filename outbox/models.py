"""The transactional outbox: events written with the change that caused them, and their
deliveries to each subscribed URL.

The tables keep the names they were created with (`fulfilment_*`), so that moving the models
into an app of their own moved no data.

An `OutboxEvent` row is inserted in the transaction of its change, so it exists if and only
if the change committed. The relay fans each event out to the subscriptions that want it (one
`Delivery` per subscription and event, unique, so a fan-out run twice writes nothing new) and
sends the deliveries that are due.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class WebhookSubscription(models.Model):
    """A URL that receives the chosen event types, signed with its secret."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=255, help_text="Signs each body (HMAC-SHA256).")
    events = models.JSONField(default=list, help_text="Event types to send, e.g. order.created.")
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_subscriptions",
        help_text="A warehouse or 3PL: only its own fulfilment and stock events. "
        "Empty: every location.",
    )
    description = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "fulfilment_webhooksubscription"
        ordering = ["id"]
        verbose_name = "webhook subscription"

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        """Return the secret as shown back to people: its last four characters only."""
        return f"…{self.secret[-4:]}" if len(self.secret) > 8 else "…"

    def wants(
        self, event: str, location_id: int | None, other_location_id: int | None = None
    ) -> bool:
        """Return whether this subscription receives `event` about `location_id`.

        A subscription with a location receives only events about that location: an event
        with no location (an order as a whole, with its customer) never reaches it, whatever
        its type. Domains say what an event is about by the location they write on it (and,
        for an event about two, such as a transfer's, the other one).
        """
        if not self.active or event not in self.events:
            return False
        return self.location_id is None or self.location_id in (location_id, other_location_id)


class OutboxEvent(models.Model):
    """Something that happened, written in the transaction that made it happen."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=64)
    # Events with the same key reach each subscriber in the order they were written.
    key = models.CharField(max_length=100, blank=True)
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # An event about two locations (a transfer: from and to) reaches the subscriptions of both.
    other_location = models.ForeignKey(
        "inventory.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    # The id of the request (or task) that wrote it, sent with each delivery as X-Request-ID:
    # a receiver's log, ours and the caller's meet on it.
    request_id = models.CharField(max_length=128, blank=True, default="")
    # False until the relay has written its deliveries.
    fanned_out = models.BooleanField(default=False)

    class Meta:
        db_table = "fulfilment_outboxevent"
        ordering = ["-id"]
        verbose_name = "outbox event"
        indexes = [
            models.Index(
                fields=["id"], condition=Q(fanned_out=False), name="outbox_event_to_fan_out"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.uid}"


class Delivery(models.Model):
    """One event to one subscription: tried until a 2xx answer or the horizon."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # not tried yet
        FAILED = "failed", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead"

    WAITING = (Status.PENDING, Status.FAILED)

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=100, blank=True)  # the event's, for the ordering rule
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField()
    # Tried without a 2xx until this time: then it is dead.
    horizon_at = models.DateTimeField()
    # A relay run holds the delivery until then; a run that died lets it go by itself.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, help_text="The start of the last answer.")
    last_error = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "fulfilment_delivery"
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="delivery_one_per_subscription_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_try_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="delivery_due",
            ),
            models.Index(
                fields=["subscription", "key", "event"],
                condition=Q(status__in=["pending", "failed"]),
                name="delivery_waiting_by_key",
            ),
            models.Index(fields=["subscription", "status", "id"], name="delivery_by_subscription"),
            models.Index(fields=["id"], condition=Q(status="dead"), name="delivery_dead"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"


class OutboxCursor(models.Model):
    """How far a producer that reads a table (the stock ledger) has turned rows into events."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    # A missing id after `position` may be a transaction still running: wait for it until
    # `gap_since` is old enough, then take it for rolled back.
    gap_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "fulfilment_outboxcursor"

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"
