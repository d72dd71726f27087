"""PUT/GET /api/v1/channels/{code}/connector/: connect a channel to its storefront.

The secrets are taken, sealed, and never shown again: answers carry their last four
characters only.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors.models import Connector
from connectors.sealing import SecretUnreadable
from connectors.services.config import connector_set
from core.api.fields import CodeField
from core.text import code_lookup_form
from inventory.models import Location
from orders.models import Channel

SECRET_MIN, SECRET_MAX = 8, 512


class RemoteLocationsField(serializers.DictField):
    """{"OMS-CODE": "remote location id"}, each OMS code one that exists."""

    child = serializers.CharField(max_length=128)

    def to_internal_value(self, data):
        mapping = super().to_internal_value(data)
        codes = {}
        errors = []
        for code in mapping:
            try:
                codes[CodeField(max_length=32).to_internal_value(code)] = mapping[code]
            except serializers.ValidationError:
                errors.append(f"'{code}' is not a location code.")
        found = {loc.code: loc for loc in Location.objects.filter(code__in=list(codes))}
        errors += [f"No location with code '{code}'." for code in codes if code not in found]
        if errors:
            raise serializers.ValidationError(errors)
        return {found[code]: remote for code, remote in codes.items()}


class ConnectorInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Connector.Kind.choices)
    base_url = serializers.CharField(
        max_length=500, help_text="The shop's address: https (http for development)."
    )
    webhook_secret = serializers.CharField(
        min_length=SECRET_MIN, max_length=SECRET_MAX, trim_whitespace=False, write_only=True
    )
    access_token = serializers.CharField(
        min_length=SECRET_MIN, max_length=SECRET_MAX, trim_whitespace=False, write_only=True
    )
    locations = RemoteLocationsField(
        default=dict, help_text='{"OMS location code": "the storefront\'s location id"}'
    )


class ConnectorOutputSerializer(serializers.Serializer):
    channel = serializers.CharField(source="channel.code")
    kind = serializers.CharField()
    base_url = serializers.CharField()
    active = serializers.BooleanField()
    webhook_secret_last4 = serializers.SerializerMethodField()
    access_token_last4 = serializers.SerializerMethodField()
    locations = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField(
        help_text="Where the storefront sends its order webhooks."
    )
    updated_at = serializers.DateTimeField()

    def get_webhook_secret_last4(self, connector: Connector) -> str:
        return _last_four(connector, "webhook_secret")

    def get_access_token_last4(self, connector: Connector) -> str:
        return _last_four(connector, "access_token")

    def get_locations(self, connector: Connector) -> dict[str, str]:
        return {
            mapped.location.code: mapped.remote_id
            for mapped in connector.locations.select_related("location").order_by("location__code")
        }

    def get_webhook_url(self, connector: Connector) -> str:
        path = reverse("connector-webhook", kwargs={"channel": connector.channel.code})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


def _last_four(connector: Connector, secret: str) -> str:
    try:
        return connector.last_four(secret)
    except SecretUnreadable:
        return ""


def _channel(code: str) -> Channel:
    key = code_lookup_form(code)
    channel = Channel.objects.filter(code=key).first() if key is not None else None
    if channel is None:
        raise NotFound(f"No channel with code '{code}'.")
    return channel


class ChannelConnectorView(APIView):
    @extend_schema(
        summary="Show a channel's storefront connection",
        responses={200: ConnectorOutputSerializer},
    )
    def get(self, request, code: str):
        connector = Connector.objects.filter(channel=_channel(code)).first()
        if connector is None:
            raise NotFound(f"Channel '{code}' is connected to no storefront.")
        return Response(ConnectorOutputSerializer(connector, context={"request": request}).data)

    @extend_schema(
        summary="Connect a channel to its storefront",
        description=(
            "Replaces the channel's connection wholly. `base_url` must be https (http for "
            "development) and a public host, unless named in OMS_OUTBOUND_ALLOWED_HOSTS. "
            "The secrets are stored sealed and never shown again: the answer has their "
            "last four characters. `webhook_url` is where the storefront sends its order "
            "webhooks."
        ),
        request=ConnectorInputSerializer,
        responses={200: ConnectorOutputSerializer},
    )
    def put(self, request, code: str):
        channel = _channel(code)
        serializer = ConnectorInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connector, _ = connector_set(channel=channel, **serializer.validated_data)
        return Response(ConnectorOutputSerializer(connector, context={"request": request}).data)
