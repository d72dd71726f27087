"""Webhooks in the admin: subscriptions, and each one's deliveries with retry and replay.

A subscription's deliveries page is the delivery list filtered on it (linked from the
subscription list): status, attempts, last answer code and body excerpt, next try. The
secret is written once and never shown back in full.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from accounts.admin_scoping import LocationScopedAdmin
from core.outbound import OutboundRefused, outbound_url_check
from outbox.events import EVENT_TYPES
from outbox.models import Delivery, OutboxEvent, WebhookSubscription
from outbox.services import deliveries_replay, deliveries_retry_now

DS = Delivery.Status


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        min_length=16,
        max_length=255,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            "Signs each delivery (X-OMS-Signature-256, X-OMS-Signature). Leave empty to keep "
            "the current one."
        ),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "events", "location", "description", "active", "secret"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            outbound_url_check(url)
        except OutboundRefused as refused:
            raise forms.ValidationError(refused.message) from None
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret and not self.instance.pk:
            raise forms.ValidationError("A new subscription needs a secret.")
        return secret or self.instance.secret


class EventTypeFilter(admin.SimpleListFilter):
    """The event types from code: a DISTINCT over the outbox would read all of it."""

    title = "event"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return [(event, event) for event in EVENT_TYPES]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        path = "event__event" if queryset.model is Delivery else "event"
        return queryset.filter(**{path: self.value()})


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(LocationScopedAdmin, admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = [
        "url",
        "event_list",
        "location",
        "active",
        "waiting",
        "dead",
        "deliveries_page",
    ]
    list_filter = ["active", "location"]
    list_select_related = ["location"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_hint", "created_by", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookSubscription]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                waiting_count=Count(
                    "deliveries", filter=Q(deliveries__status__in=Delivery.WAITING)
                ),
                dead_count=Count("deliveries", filter=Q(deliveries__status=DS.DEAD)),
            )
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="events")
    def event_list(self, subscription: WebhookSubscription) -> str:
        return ", ".join(subscription.events)

    @admin.display(description="waiting", ordering="waiting_count")
    def waiting(self, subscription) -> int:
        return subscription.waiting_count

    @admin.display(description="dead", ordering="dead_count")
    def dead(self, subscription) -> int:
        return subscription.dead_count

    @admin.display(description="deliveries")
    def deliveries_page(self, subscription: WebhookSubscription) -> str:
        url = reverse("admin:outbox_delivery_changelist")
        return format_html(
            '<a href="{}?subscription__id__exact={}">Deliveries</a>', url, subscription.pk
        )

    @admin.display(description="secret")
    def secret_hint(self, subscription: WebhookSubscription) -> str:
        return subscription.secret_hint


@admin.register(Delivery)
class DeliveryAdmin(LocationScopedAdmin, admin.ModelAdmin):
    location_path = "subscription__location"
    list_display = [
        "id",
        "event_type",
        "event_id",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "answer_excerpt",
        "next_try",
        "last_attempt_at",
    ]
    list_filter = ["status", "subscription", EventTypeFilter]
    list_select_related = ["event", "subscription"]
    search_fields = ["=event__uid", "=key"]
    search_help_text = "An event id, or a key such as fulfilment:42, exactly."
    show_full_result_count = False
    actions = ["retry_now", "replay"]
    fields = [
        "event_type",
        "event_id",
        "subscription",
        "key",
        "status",
        "attempts",
        "next_try_at",
        "horizon_at",
        "claimed_until",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "last_response",
        "delivered_at",
        "created_at",
        "payload",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="event", ordering="event__event")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.event

    @admin.display(description="event id")
    def event_id(self, delivery: Delivery) -> str:
        return str(delivery.event.uid)

    @admin.display(description="answer")
    def answer_excerpt(self, delivery: Delivery) -> str:
        return Truncator(delivery.last_response or delivery.last_error).chars(80)

    @admin.display(description="next try", ordering="next_try_at")
    def next_try(self, delivery: Delivery):
        return delivery.next_try_at if delivery.status in Delivery.WAITING else None

    @admin.display(description="data")
    def payload(self, delivery: Delivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(delivery.event.data, indent=2))

    @admin.action(description="Retry now (waiting or dead deliveries)", permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_retry_now(ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} deliver(ies) will be tried now.", messages.SUCCESS)

    @admin.action(description="Replay (send again, the same event id)", permissions=["view"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = deliveries_replay(ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} deliver(ies) will be sent again.", messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(LocationScopedAdmin, admin.ModelAdmin):
    list_display = ["id", "event", "uid", "key", "location", "created_at", "fanned_out"]
    list_filter = [EventTypeFilter, "fanned_out"]
    list_select_related = ["location"]
    search_fields = ["=uid", "=key"]
    show_full_result_count = False
    readonly_fields = ["uid", "event", "key", "location", "data", "created_at", "fanned_out"]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
