"""What the fulfilment endpoints accept (…Input) and answer (…Output), kept apart.

A fulfilment names its order by `number` and its location by `code` (docs/api.md). The output
serializer declares the answer's shape for the schema; `to_representation` draws it with
`fulfilment.representation`, which the `fulfilment.*` events use as well.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfilment.models import Fulfilment, RejectReason
from fulfilment.representation import fulfilment_representation_read


class FulfilmentRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Why, in words (required).")
    reason_code = serializers.ChoiceField(
        choices=RejectReason.CHOICES,
        default=RejectReason.OTHER,
        help_text=(
            "out_of_stock corrects the location's on hand and damaged writes the units off "
            "(both through the ledger); no_capacity and other leave the stock as it is."
        ),
    )


class FulfilmentShipInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=64)
    tracking_number = serializers.CharField(max_length=128)


# Output: the customer and address of an order, shown the same by the order's answer.


class CustomerOutputSerializer(serializers.Serializer):
    email = serializers.CharField(source="customer_email")
    name = serializers.CharField(source="customer_name")
    phone = serializers.CharField(source="customer_phone")


class RecipientOutputSerializer(serializers.Serializer):
    name = serializers.CharField(source="customer_name")
    phone = serializers.CharField(source="customer_phone")


class ShippingAddressOutputSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="ship_line1")
    line2 = serializers.CharField(source="ship_line2")
    city = serializers.CharField(source="ship_city")
    postcode = serializers.CharField(source="ship_postcode")
    country = serializers.CharField(source="ship_country")
    lat = serializers.FloatField(source="ship_lat", allow_null=True)
    lon = serializers.FloatField(source="ship_lon", allow_null=True)


@extend_schema_field(
    {"type": "string", "enum": Fulfilment.Status.values}, component_name="FulfilmentStatus"
)
class FulfilmentStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Fulfilment.Status.choices, **kwargs)


class FulfilmentLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


# Read from `fulfilments_for_output()` (no docstring: it would become the schema's text).
class FulfilmentOutputSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", help_text="The order number.")
    location = serializers.CharField(source="location.code", help_text="The location code.")
    status = FulfilmentStatusField()
    lines = FulfilmentLineOutputSerializer(
        many=True,
        read_only=True,
        help_text="Units to pick, per SKU: the fulfilment's open and shipped allocations.",
    )
    delivery_method = serializers.CharField(source="order.delivery_method")
    customer = RecipientOutputSerializer(
        source="order", help_text="Whom the parcel goes to: name and phone, for the carrier."
    )
    shipping_address = ShippingAddressOutputSerializer(source="order")

    class Meta:
        model = Fulfilment
        fields = [
            "id",
            "order",
            "location",
            "status",
            "lines",
            "carrier",
            "tracking_number",
            "reason",
            "delivery_method",
            "customer",
            "shipping_address",
            "created_at",
            "updated_at",
            "accepted_at",
            "shipped_at",
            "ready_at",
            "collected_at",
        ]

    def to_representation(self, instance: Fulfilment) -> dict:
        return fulfilment_representation_read(instance)
