"""Configuration as code: channels, their delivery prices, carrier services
(docs/api.md, "Configuration as code").

Network-wide writes: a token with no location or channel scope and the permission
(accounts.permissions). Each view parses its input, calls one service, renders the result.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import channel_ids_for
from core.api.fields import CodeField, StrictIntegerField
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.currencies import currency_problem
from core.text import code_lookup_form
from inventory.models import Location
from orders.models import CHANNEL_CODE_MAX_LENGTH, CarrierService, Channel, DeliveryPrice, Order
from orders.services.channels import (
    carrier_service_set,
    channel_create,
    channel_update,
    delivery_price_set,
)

MAX_BANDS = 50


def _channel(code: str) -> Channel:
    key = code_lookup_form(code)
    channel = Channel.objects.filter(code=key).first() if key is not None else None
    if channel is None:
        raise NotFound(f"No channel with code '{code}'.")
    return channel


def _parse(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class LocationCodesField(serializers.ListField):
    """Location codes, each one that exists; answered as the locations."""

    child = CodeField(max_length=32)

    def to_internal_value(self, data):
        codes = super().to_internal_value(data)
        found = {location.code: location for location in Location.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise serializers.ValidationError(
                [f"No location with code '{code}'." for code in unknown]
            )
        return [found[code] for code in dict.fromkeys(codes)]


class ChannelUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    kind = serializers.ChoiceField(choices=Channel.Kind.choices, default=Channel.Kind.WEB)
    locations = LocationCodesField(
        default=list, max_length=1000, help_text="Location codes; empty: every active location."
    )
    return_days = StrictIntegerField(min_value=0, max_value=3650, default=30)
    buffer_units = StrictIntegerField(min_value=0, default=0)
    buffer_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        default=Decimal("0"),
    )
    pickup_transfer = serializers.BooleanField(default=False)
    active = serializers.BooleanField(default=True)


class ChannelInputSerializer(ChannelUpdateInputSerializer):
    code = CodeField(max_length=CHANNEL_CODE_MAX_LENGTH)

    def validate_code(self, value: str) -> str:
        # A channel code is a slug: it is a URL part (/connectors/<code>/webhook/).
        if not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value):
            raise serializers.ValidationError("A channel code is letters, digits, '-' and '_'.")
        return value


class DeliveryPriceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryPrice
        fields = ["method", "price", "currency", "free_above", "active", "updated_at"]


class ChannelOutputSerializer(serializers.ModelSerializer):
    locations = serializers.SerializerMethodField()
    delivery_prices = DeliveryPriceOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Channel
        fields = [
            "code",
            "name",
            "kind",
            "active",
            "locations",
            "return_days",
            "buffer_units",
            "buffer_percent",
            "pickup_transfer",
            "delivery_prices",
            "created_at",
        ]

    def get_locations(self, channel: Channel) -> list[str]:
        return sorted(location.code for location in channel.locations.all())


def _channels():
    return Channel.objects.prefetch_related("locations", "delivery_prices")


class ChannelListView(generics.ListAPIView):
    serializer_class = ChannelOutputSerializer

    def get_queryset(self):
        # A storefront's token sees its own channels; every other caller the network's.
        own = channel_ids_for(self.request.user)
        channels = _channels()
        return channels.filter(pk__in=own) if own is not None else channels

    @extend_schema(summary="List channels")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a channel",
        description=(
            "`locations`: the codes of the locations that serve it (empty: every active "
            "location). A code that exists already, in any case, is a 400 on `code`."
        ),
        request=ChannelInputSerializer,
        responses={201: ChannelOutputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        channel = channel_create(**_parse(ChannelInputSerializer, request.data))
        answer = ChannelOutputSerializer(_channels().get(pk=channel.pk)).data
        return Response(answer, status=status.HTTP_201_CREATED)


class ChannelDetailView(APIView):
    @extend_schema(summary="Show a channel", responses={200: ChannelOutputSerializer})
    def get(self, request, code: str):
        channel = _channel(code)
        own = channel_ids_for(request.user)
        if own is not None and channel.pk not in own:
            raise NotFound(f"No channel with code '{code}'.")
        return Response(ChannelOutputSerializer(_channels().get(pk=channel.pk)).data)

    @extend_schema(
        summary="Change a channel",
        description="Any of the fields; the code does not change. `locations` replaces the set.",
        request=ChannelUpdateInputSerializer,
        responses={200: ChannelOutputSerializer},
    )
    def patch(self, request, code: str):
        channel = _channel(code)
        changes = _parse(ChannelUpdateInputSerializer, request.data, partial=True)
        channel = channel_update(channel=channel, changes=changes)
        return Response(ChannelOutputSerializer(_channels().get(pk=channel.pk)).data)


class DeliveryPriceInputSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    currency = serializers.CharField(max_length=3)
    free_above = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True, default=None
    )

    def validate_currency(self, value: str) -> str:
        problem = currency_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value.upper()


class DeliveryPriceView(APIView):
    @extend_schema(
        summary="Set a channel's price for a delivery method",
        description=(
            "`method`: click_and_collect, same_day, express or standard. From now on the "
            "method is offered on the channel at this price (free from `free_above`); a "
            "method without a price is not offered."
        ),
        request=DeliveryPriceInputSerializer,
        responses={200: DeliveryPriceOutputSerializer},
    )
    def put(self, request, code: str, method: str):
        channel = _channel(code)
        if method not in Order.DeliveryMethod.values:
            raise NotFound(
                f"No delivery method '{method}': one of {', '.join(Order.DeliveryMethod.values)}."
            )
        values = _parse(DeliveryPriceInputSerializer, request.data)
        price = delivery_price_set(channel=channel, method=method, **values)
        return Response(DeliveryPriceOutputSerializer(price).data)


class BandSerializer(serializers.Serializer):
    max_km = StrictIntegerField(min_value=1, max_value=20_000)
    days = StrictIntegerField(min_value=1, max_value=60)


class CarrierServiceInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    method = serializers.ChoiceField(choices=CarrierService.Method.choices)
    active = serializers.BooleanField(default=True)
    bands = serializers.ListField(child=BandSerializer(), max_length=MAX_BANDS)


class CarrierServiceOutputSerializer(serializers.ModelSerializer):
    bands = serializers.SerializerMethodField()

    class Meta:
        model = CarrierService
        fields = ["code", "name", "method", "active", "bands", "updated_at"]

    def get_bands(self, service: CarrierService) -> list[dict[str, int]]:
        return [{"max_km": band.max_km, "days": band.days} for band in service.bands.all()]


class CarrierServiceListView(generics.ListAPIView):
    serializer_class = CarrierServiceOutputSerializer
    queryset = CarrierService.objects.prefetch_related("bands")

    @extend_schema(summary="List carrier services")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CarrierServiceDetailView(APIView):
    @extend_schema(
        summary="Create or replace a carrier service",
        description=(
            "Transit days by distance band: up to `max_km` from the shipping location, "
            "`days` delivery days after dispatch; farther than the last band the service "
            "does not go. The bands sent replace the service's bands."
        ),
        request=CarrierServiceInputSerializer,
        responses={200: CarrierServiceOutputSerializer},
    )
    def put(self, request, code: str):
        key = code_lookup_form(code)
        if key is None or not key.replace("-", "").replace("_", "").isalnum() or len(key) > 32:
            raise NotFound(f"'{code}' cannot be a carrier service code.")
        values = _parse(CarrierServiceInputSerializer, request.data)
        bands = [(band["max_km"], band["days"]) for band in values.pop("bands")]
        service, _ = carrier_service_set(code=key, bands=bands, **values)
        service = CarrierService.objects.prefetch_related("bands").get(pk=service.pk)
        return Response(CarrierServiceOutputSerializer(service).data)
