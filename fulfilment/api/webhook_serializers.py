"""What the webhook endpoints accept and answer (docs/api.md "Webhooks").

A secret is never shown back: answers give its last four characters only.
"""

from __future__ import annotations

from rest_framework import serializers

from core.api.fields import CodeField
from core.outbound import OutboundRefused, outbound_url_check
from inventory.models import LOCATION_CODE_MAX_LENGTH, Location
from outbox.events import EVENT_TYPES
from outbox.models import WebhookSubscription

MIN_SECRET_LENGTH = 16


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.URLField(
        max_length=500,
        help_text=(
            "Where the events are POSTed: https (or http), to a public host; redirects are "
            "not followed."
        ),
    )
    secret = serializers.CharField(
        min_length=MIN_SECRET_LENGTH,
        max_length=255,
        trim_whitespace=False,
        help_text=(
            "Signs each delivery: X-OMS-Signature-256 is t=<X-OMS-Timestamp>,v1=<hex "
            'HMAC-SHA256 of "<timestamp>.<body>">; X-OMS-Signature is sha256=<hex HMAC-SHA256 '
            "of the body>."
        ),
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        allow_empty=False,
        max_length=len(EVENT_TYPES) * 2,
    )
    location = CodeField(
        max_length=LOCATION_CODE_MAX_LENGTH,
        allow_null=True,
        allow_blank=True,
        required=False,
        default=None,
        help_text="A location code: only that location's fulfilment and stock events.",
    )
    description = serializers.CharField(max_length=255, required=False, default="")

    def validate_url(self, value: str) -> str:
        # A host that is or resolves to a non-public address is refused here, and again
        # before every delivery (outbox/transport.py).
        try:
            outbound_url_check(value)
        except OutboundRefused as refused:
            raise serializers.ValidationError(refused.message) from None
        return value

    def validate_location(self, value: str | None) -> Location | None:
        if value in (None, ""):
            return None
        location = Location.objects.filter(code=value).first()
        if location is None:
            raise serializers.ValidationError(f"No location with code {value}.")
        return location


class WebhookOutputSerializer(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code", allow_null=True, default=None)
    secret = serializers.CharField(
        source="secret_hint", help_text="The end of the secret only; it is never shown in full."
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "location",
            "secret",
            "description",
            "active",
            "created_at",
            "updated_at",
        ]
