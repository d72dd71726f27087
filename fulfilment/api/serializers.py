"""What the fulfilment endpoints accept (…Input) and answer (…Output), kept apart.

A fulfilment names its order by `number` and its location by `code` (docs/api.md).
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfilment.models import Fulfilment
from fulfilment.services import RejectReason
from inventory.models import Allocation
from orders.api.serializers import (
    CustomerOutputSerializer,
    FulfilmentLineOutputSerializer,
    FulfilmentStatusField,
    ShippingAddressOutputSerializer,
    fulfilment_lines,
)


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


def fulfilments_for_output() -> QuerySet[Fulfilment]:
    """Return fulfilments with what `FulfilmentOutputSerializer` reads, in three queries."""
    return Fulfilment.objects.select_related("order", "location").prefetch_related(
        Prefetch(
            "allocations",
            queryset=Allocation.objects.holding().select_related("order_line__product"),
            to_attr="holding",
        )
    )


class FulfilmentOutputSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", help_text="The order number.")
    location = serializers.CharField(source="location.code", help_text="The location code.")
    status = FulfilmentStatusField()
    lines = serializers.SerializerMethodField(
        help_text="Units to pick, per SKU: the fulfilment's open and shipped allocations."
    )
    delivery_method = serializers.CharField(source="order.delivery_method")
    customer = CustomerOutputSerializer(source="order")
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

    @extend_schema_field(FulfilmentLineOutputSerializer(many=True))
    def get_lines(self, fulfilment: Fulfilment) -> list[dict]:
        holding = getattr(fulfilment, "holding", None)
        if holding is None:  # not read through fulfilments_for_output() (e.g. a webhook)
            holding = fulfilment.allocations.holding().select_related("order_line__product")
        return fulfilment_lines(holding)
