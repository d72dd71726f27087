"""What the inventory endpoints accept (…Input) and what they answer (…Output), kept apart.

Payloads name products by `sku` and locations by `code`, never by database id.
"""

from datetime import time
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import (
    CodeField,
    HourMinuteField,
    SkuField,
    StrictFloatField,
    StrictIntegerField,
)
from inventory.models import (
    LATITUDE_LIMIT,
    LOCATION_CODE_MAX_LENGTH,
    LONGITUDE_LIMIT,
    MAX_PROCESSING_DAYS,
    SKU_MAX_LENGTH,
    Location,
    Product,
    StockLevel,
    StockMovement,
    validate_time_zone,
)

# Kinds an integration may post; counts and shipments have their own endpoints.
POSTABLE_KINDS = [
    StockMovement.Kind.RECEIPT,
    StockMovement.Kind.ADJUSTMENT,
    StockMovement.Kind.DAMAGE,
    StockMovement.Kind.TRANSFER_IN,
    StockMovement.Kind.TRANSFER_OUT,
]
MAX_AVAILABILITY_SKUS = 500

code_format = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    "A code is letters, digits, '.', '_' and '-', starting with a letter or digit.",
)
country_format = RegexValidator(r"^[A-Z]{2}$", "An ISO 3166 country code: two capitals (FR).")


def _currency() -> str:
    return getattr(settings, "OMS_CURRENCY", "EUR")


def product_by_sku(sku: str) -> Product:
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise serializers.ValidationError(f"No product with sku '{sku}'.")
    return product


def location_by_code(code: str) -> Location:
    location = Location.objects.filter(code=code).first()
    if location is None:
        raise serializers.ValidationError(f"No location with code '{code}'.")
    return location


# Products


class ProductUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    barcode = serializers.CharField(max_length=64, allow_blank=True, default="")
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), allow_null=True, default=None
    )
    active = serializers.BooleanField(default=True)
    preorder = serializers.BooleanField(
        default=False, help_text="Sold only against incoming purchase orders."
    )
    preorder_cap = StrictIntegerField(
        min_value=0,
        max_value=2_147_483_647,
        default=0,
        help_text="The most units promised to pre-orders in total.",
    )


class ProductInputSerializer(ProductUpdateInputSerializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)


class ProductOutputSerializer(serializers.ModelSerializer):
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "barcode",
            "price",
            "currency",
            "active",
            "preorder",
            "preorder_cap",
            "created_at",
            "updated_at",
        ]

    def get_currency(self, product: Product) -> str:
        return _currency()


# Locations


class LocationUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=Location.Kind.choices)
    lat = StrictFloatField(min_value=-LATITUDE_LIMIT, max_value=LATITUDE_LIMIT)
    lon = StrictFloatField(min_value=-LONGITUDE_LIMIT, max_value=LONGITUDE_LIMIT)
    ships = serializers.BooleanField(default=True)
    click_and_collect = serializers.BooleanField(default=False)
    priority = StrictIntegerField(default=100, help_text="Lower is preferred.")
    shipment_cost = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), default=Decimal("0")
    )
    cost_per_km = serializers.DecimalField(
        max_digits=10, decimal_places=4, min_value=Decimal("0"), default=Decimal("0")
    )
    unit_cost = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), default=Decimal("0")
    )
    processing_days = StrictIntegerField(min_value=0, max_value=MAX_PROCESSING_DAYS, default=1)
    cutoff_time = HourMinuteField(default=time(14, 0))
    address = serializers.CharField(max_length=255, allow_blank=True, default="")
    city = serializers.CharField(max_length=128, allow_blank=True, default="")
    postcode = serializers.CharField(max_length=16, allow_blank=True, default="")
    country = serializers.CharField(
        max_length=2, allow_blank=True, default="", validators=[country_format]
    )
    time_zone = serializers.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    active = serializers.BooleanField(default=True)


class LocationInputSerializer(LocationUpdateInputSerializer):
    code = CodeField(max_length=LOCATION_CODE_MAX_LENGTH, validators=[code_format])


class LocationOutputSerializer(serializers.ModelSerializer):
    cutoff_time = HourMinuteField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Location
        fields = [
            "code",
            "name",
            "kind",
            "lat",
            "lon",
            "address",
            "city",
            "postcode",
            "country",
            "time_zone",
            "ships",
            "click_and_collect",
            "priority",
            "shipment_cost",
            "cost_per_km",
            "unit_cost",
            "currency",
            "processing_days",
            "cutoff_time",
            "active",
            "created_at",
            "updated_at",
        ]

    def get_currency(self, location: Location) -> str:
        return _currency()


# Stock


class StockOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    location = serializers.CharField(source="location.code")
    available = serializers.IntegerField(
        help_text=(
            "on_hand - allocated - safety_stock - the units of unexpired reservations, "
            "never below 0."
        )
    )

    class Meta:
        model = StockLevel
        fields = [
            "sku",
            "location",
            "on_hand",
            "allocated",
            "reserved",
            "safety_stock",
            "available",
            "in_transit",
            "incoming",
        ]
        extra_kwargs = {
            "in_transit": {
                "help_text": "Units shipped here by transfers from other locations, "
                "not yet received."
            },
            "incoming": {"help_text": "Units of open purchase orders not yet received."},
        }


@extend_schema_field({"type": "string", "enum": [kind.value for kind in POSTABLE_KINDS]})
class MovementKindField(serializers.ChoiceField):
    """Described inline: a second enum named "kind" beside Location's would clash in the schema."""


class MovementInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    location = CodeField(max_length=LOCATION_CODE_MAX_LENGTH)
    kind = MovementKindField(choices=[(k.value, k.label) for k in POSTABLE_KINDS])
    quantity = StrictIntegerField(
        help_text="Units, positive; an adjustment is signed (-3 removes three units)."
    )
    reference = serializers.CharField(max_length=128, allow_blank=True, default="")
    reason = serializers.CharField(max_length=255, allow_blank=True, default="")

    def validate_sku(self, value: str) -> Product:
        return product_by_sku(value)

    def validate_location(self, value: str) -> Location:
        return location_by_code(value)

    def validate(self, data: dict) -> dict:
        if data["quantity"] == 0:
            raise serializers.ValidationError({"quantity": ["A movement must move units (not 0)."]})
        if data["kind"] != StockMovement.Kind.ADJUSTMENT and data["quantity"] < 0:
            raise serializers.ValidationError(
                {"quantity": ["Must be positive; only an adjustment is signed."]}
            )
        data["product"] = data.pop("sku")
        return data


class MovementOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockMovement
        fields = ["kind", "quantity", "on_hand_after", "reference", "reason", "created_at"]


class StockAfterMovementOutputSerializer(StockOutputSerializer):
    movement = MovementOutputSerializer(help_text="The ledger line written (or replayed).")

    class Meta(StockOutputSerializer.Meta):
        fields = [*StockOutputSerializer.Meta.fields, "movement"]


# Availability


class AvailabilityQuerySerializer(serializers.Serializer):
    sku = serializers.ListField(
        child=SkuField(max_length=SKU_MAX_LENGTH),
        min_length=1,
        max_length=MAX_AVAILABILITY_SKUS,
        error_messages={"min_length": "Ask for at least one sku (?sku=A&sku=B)."},
    )
    channel = CodeField(max_length=32, required=False)

    def validate_channel(self, value: str):
        # By name: channels are a model of orders, above inventory.
        Channel = apps.get_model("orders", "Channel")
        channel = Channel.objects.filter(code=value).first()
        if channel is None:
            raise serializers.ValidationError(f"No channel with code '{value}'.")
        if not channel.active:
            raise serializers.ValidationError(f"Channel '{value}' is not active.")
        return channel
