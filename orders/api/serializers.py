"""What the order endpoints accept (…Input) and what they answer (…Output), kept apart.

Payloads name channels by `code`, products by `sku`, locations by `code` and orders by
`number`, never by database id (docs/api.md).
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import StrictIntegerField
from core.text import code_lookup_form
from fulfilment.api.serializers import (
    CustomerOutputSerializer,
    FulfilmentLineOutputSerializer,
    FulfilmentStatusField,
    ShippingAddressOutputSerializer,
)
from inventory.models import (
    Allocation,
    Product,
)
from orders.inputs import MAX_LINES
from orders.models import (
    MAX_LINE_QUANTITY,
    Channel,
    Order,
    OrderLine,
)
from orders.representation import order_representation_read

DM = Order.DeliveryMethod

# Input: the order's own input is orders.inputs.OrderBody; these serve the other endpoints.

country_format = RegexValidator(
    r"^[A-Za-z]{2}$", "An ISO 3166 country code: two letters (e.g. FR)."
)


class LineListSerializer(serializers.ListSerializer):
    """Answer line errors as a list with one entry per line (`[{}, {"sku": [...]}]`).

    DRF 3.18 defaults to `{"1": {...}}` (LIST_SERIALIZER_ERRORS_AS_DICT); the API promises
    the list, whatever that project-wide setting says.
    """

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, dict) and detail and all(isinstance(k, int) for k in detail):
                raise serializers.ValidationError(
                    [detail.get(index, {}) for index in range(len(data))]
                ) from None
            raise


def coordinates_paired(data: dict) -> None:
    """Refuse a point given by one coordinate only: a 400 on the one missing."""
    if (data["lat"] is None) != (data["lon"] is None):
        missing = "lat" if data["lat"] is None else "lon"
        raise serializers.ValidationError({missing: ["Give lat and lon together, or neither."]})


def skus_named_in(data: object) -> set[str]:
    """Return the SKUs that the lines of a raw body name and a query can take as they are,
    so that one query reads every line's product before the lines are validated."""
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        return set()
    found = set()
    for line in lines[:MAX_LINES]:
        if isinstance(line, dict) and _queryable(line.get("sku")):
            # Looked up in the form the line's field will give it (core.text).
            key = code_lookup_form(line["sku"])
            if key is not None:
                found.add(key)
    return found


def sold_product(products: dict[str, Product], sku: str) -> Product:
    """Return the product of `sku` among those read for the body; a 400 if unknown or retired."""
    product = products.get(sku)
    if product is None:
        raise serializers.ValidationError(f"Unknown SKU '{sku}'.")
    if not product.active:
        raise serializers.ValidationError(f"SKU '{sku}' is no longer sold.")
    return product


def active_channel(channel: Channel | None, code: str) -> Channel:
    """Return the channel read for `code`; a 400 if there is none or it is switched off."""
    if channel is None:
        raise serializers.ValidationError(f"Unknown channel '{code}'.")
    if not channel.active:
        raise serializers.ValidationError(f"Channel '{code}' is not active.")
    return channel


def _queryable(sku) -> bool:
    """Return whether `sku` can go into a query as it is (the fields check it properly later;
    PostgreSQL refuses NUL and lone surrogates)."""
    if not isinstance(sku, str) or not 0 < len(sku) <= 64 or "\x00" in sku:
        return False
    try:
        sku.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


REASON_IS_PUBLIC = "Told to the customer: it joins the public timeline (tracking page)."


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=255, allow_blank=True, default="", help_text=REASON_IS_PUBLIC
    )


class OrderLineCancelInputSerializer(serializers.Serializer):
    quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        required=False,
        allow_null=True,
        default=None,
        help_text="Units to cancel; every unshipped unit of the line when left out.",
    )
    reason = serializers.CharField(
        max_length=255, allow_blank=True, default="", help_text=REASON_IS_PUBLIC
    )


class OrderNoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=4000, help_text="An internal note, never shown to the customer."
    )


# Output
#
# The output serializers describe the order's shape for the schema; `to_representation`
# draws it with `orders.representation.order_representation`, the one function every
# answer showing an order goes through (tests/orders/test_api_orders_read.py holds the
# two to the same fields).


class LineOutputSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_no")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    allocated = serializers.IntegerField(
        read_only=True, help_text="Units held for the line: open and shipped allocations."
    )
    shipped = serializers.IntegerField(source="quantity_shipped")
    cancelled = serializers.IntegerField(source="quantity_cancelled")
    returned = serializers.IntegerField(
        source="quantity_returned",
        help_text="Units on the order's returns (cancelled returns give theirs back).",
    )

    class Meta:
        model = OrderLine
        fields = [
            "line",
            "sku",
            "name",
            "quantity",
            "allocated",
            "shipped",
            "cancelled",
            "returned",
            "unit_price",
        ]


# Named components: enums all named "status" would otherwise get hashed names.
@extend_schema_field(
    {"type": "string", "enum": ["open", "shipped"]}, component_name="AllocationStatus"
)
class AllocationStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[Allocation.Status.OPEN, Allocation.Status.SHIPPED], **kwargs)


class AllocationOutputSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="order_line.line_no")
    sku = serializers.CharField(source="order_line.product.sku")
    location = serializers.CharField(source="stock.location.code")
    quantity = serializers.IntegerField()
    status = AllocationStatusField(
        help_text="open (held) or shipped; released allocations are left out."
    )


@extend_schema_field({"type": "string", "enum": Order.Status.values}, component_name="OrderStatus")
class OrderStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Order.Status.choices, **kwargs)


class OrderFulfilmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.CharField(source="location.code")
    status = FulfilmentStatusField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    lines = FulfilmentLineOutputSerializer(many=True)


class EventOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    message = serializers.CharField()
    public = serializers.BooleanField(help_text="Shown to the customer on the tracking page.")
    actor = serializers.CharField(
        read_only=True, allow_null=True, help_text="Username, or null for the system."
    )
    created_at = serializers.DateTimeField()


# The returns app (above orders) draws each of an order's returns (orders.order_returns): the
# schema names its component rather than importing its serializer.
@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/ReturnOutput"}})
class OrderReturnsField(serializers.ListField):
    pass


class OrderOutputSerializer(serializers.ModelSerializer):
    """An order, read from `orders_for_output()` (everything prefetched)."""

    status = OrderStatusField()
    channel = serializers.CharField(source="channel.code")
    customer = CustomerOutputSerializer(source="*")
    shipping_address = ShippingAddressOutputSerializer(source="*")
    pickup_location = serializers.CharField(source="pickup_location.code", allow_null=True)
    lines = LineOutputSerializer(source="lines.all", many=True)
    allocations = AllocationOutputSerializer(
        many=True,
        read_only=True,
        help_text="Allocations holding stock now (open) or that left with a shipment.",
    )
    fulfilments = OrderFulfilmentOutputSerializer(many=True, read_only=True)
    returns = OrderReturnsField(
        read_only=True,
        help_text="The order's returns, oldest first, each as GET /api/v1/returns/{number}/ "
        "answers it.",
    )
    tracking_url = serializers.CharField(
        read_only=True, help_text="The customer's signed tracking page."
    )
    held_for = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Why the order is on hold, or null: an exchange that ships once its return "
        "is received. No location is asked for its units (no `fulfilment.requested`) until "
        "the hold is released.",
    )

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "channel",
            "external_id",
            "customer",
            "shipping_address",
            "delivery_method",
            "pickup_location",
            "currency",
            "promised_date",
            "shipping_price",
            "lines",
            "allocations",
            "fulfilments",
            "returns",
            "tracking_url",
            "logistics_cost",
            "held_for",
            "needs_attention",
            "attention_reason",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance: Order) -> dict:
        return order_representation_read(
            instance, events=False, request=self.context.get("request")
        )


class OrderDetailOutputSerializer(OrderOutputSerializer):
    events = EventOutputSerializer(
        source="events.all",
        many=True,
        help_text="The timeline, oldest first; internal entries have public = false.",
    )

    class Meta(OrderOutputSerializer.Meta):
        fields = [*OrderOutputSerializer.Meta.fields, "events"]

    def to_representation(self, instance: Order) -> dict:
        return order_representation_read(instance, events=True, request=self.context.get("request"))
