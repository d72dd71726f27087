"""What the order endpoints accept (…Input) and what they answer (…Output), kept apart.

Payloads name channels by `code`, products by `sku`, locations by `code` and orders by
`number`, never by database id (API.md).
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from django.core.validators import RegexValidator
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfilment.models import Fulfilment
from inventory.models import Allocation, Location, Product
from oms.api.fields import StrictFloatField, StrictIntegerField
from orders.channels import channel_locations
from orders.models import MAX_LINE_QUANTITY, Channel, Order, OrderEvent, OrderLine
from orders.services.capture import LineInput, OrderInput, phone_digits
from orders.tracking.links import tracking_url

MAX_LINES = 500
DM = Order.DeliveryMethod

# ISO 4217 currencies in use (funds and precious metals left out).
ISO_4217 = frozenset(
    re.findall(
        r"[A-Z]{3}",
        """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
        BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN
        ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
        ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
        MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
        PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
        SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES
        VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
        """,
    )
)

country_format = RegexValidator(
    r"^[A-Za-z]{2}$", "An ISO 3166 country code: two letters (e.g. FR)."
)
phone_format = RegexValidator(
    r"^\+?[0-9 ().\-/]*$", "A phone number: digits, spaces, + ( ) . - / only."
)


# Input


class CustomerInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=255, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=32, allow_blank=True, default="", validators=[phone_format]
    )

    def validate_phone(self, value: str) -> str:
        if value and not 4 <= len(phone_digits(value)) <= 20:
            raise serializers.ValidationError("A phone number has 4 to 20 digits.")
        return value


class ShippingAddressInputSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, allow_blank=True, allow_null=True, default="")
    city = serializers.CharField(max_length=128)
    postcode = serializers.CharField(max_length=16, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, validators=[country_format])
    lat = StrictFloatField(min_value=-90, max_value=90, allow_null=True, default=None)
    lon = StrictFloatField(min_value=-180, max_value=180, allow_null=True, default=None)

    def validate(self, data: dict) -> dict:
        if (data["lat"] is None) != (data["lon"] is None):
            missing = "lat" if data["lat"] is None else "lon"
            raise serializers.ValidationError({missing: ["Give lat and lon together, or neither."]})
        data["line2"] = data["line2"] or ""
        data["country"] = data["country"].upper()
        return data


class LineListSerializer(serializers.ListSerializer):
    """Answer line errors as a list with one entry per line (`[{}, {"sku": [...]}]`).

    DRF 3.18 defaults to `{"1": {...}}` (LIST_SERIALIZER_ERRORS_AS_DICT); the order API
    promises the list, whatever that project-wide setting says.
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


class LineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        default=Decimal("0"),
        help_text='Decimal string ("19.90") or number; 0 when left out.',
    )

    def validate_sku(self, value: str) -> Product:
        products = self.root.context.get("products")
        product = products.get(value) if products is not None else None
        if product is None and products is None:
            product = Product.objects.filter(sku=value).first()
        if product is None:
            raise serializers.ValidationError(f"Unknown SKU '{value}'.")
        if not product.active:
            raise serializers.ValidationError(f"SKU '{value}' is no longer sold.")
        return product

    class Meta:
        list_serializer_class = LineListSerializer


class OrderInputSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=32, help_text="A channel code, e.g. `web`.")
    external_id = serializers.CharField(
        max_length=128,
        allow_blank=True,
        default="",
        help_text=(
            "The order's id in the channel. The same channel + external_id sent again "
            "answers 200 with the existing order."
        ),
    )
    customer = CustomerInputSerializer()
    shipping_address = ShippingAddressInputSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Required unless delivery_method is click_and_collect.",
    )
    delivery_method = serializers.ChoiceField(choices=DM.choices, default=DM.STANDARD)
    pickup_location = serializers.CharField(
        max_length=32,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Location code of the pickup store: required for click_and_collect only.",
    )
    currency = serializers.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    lines = LineInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_LINES,
        error_messages={"empty": "An order needs at least one line."},
    )

    def to_internal_value(self, data):
        # Every SKU of the body in one query, so that each line can name its own error.
        self.context["products"] = _products_named_in(data)
        return super().to_internal_value(data)

    def validate_channel(self, value: str) -> Channel:
        channel = Channel.objects.filter(code=value).first()
        if channel is None:
            raise serializers.ValidationError(f"Unknown channel '{value}'.")
        if not channel.active:
            raise serializers.ValidationError(f"Channel '{value}' is not active.")
        return channel

    def validate_currency(self, value: str) -> str:
        if value.upper() not in ISO_4217:
            raise serializers.ValidationError(
                f"'{value}' is not an ISO 4217 currency code (e.g. EUR)."
            )
        return value.upper()

    def validate(self, data: dict) -> dict:
        errors: dict[str, list[str]] = {}
        method, code = data["delivery_method"], data["pickup_location"]
        if method == DM.CLICK_AND_COLLECT:
            if not code:
                errors["pickup_location"] = ["Required for click_and_collect."]
            else:
                error = _pickup_error(code, data["channel"])
                if isinstance(error, str):
                    errors["pickup_location"] = [error]
                else:
                    data["pickup_location"] = error
        else:
            if code:
                errors["pickup_location"] = [
                    "Only for click_and_collect; leave it null for other delivery methods."
                ]
            if data["shipping_address"] is None:
                errors["shipping_address"] = [f"Required for {method} delivery."]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_order_input(self) -> OrderInput:
        data = self.validated_data
        customer = data["customer"]
        return OrderInput(
            channel=data["channel"],
            lines=[
                LineInput(
                    product=line["sku"], quantity=line["quantity"], unit_price=line["unit_price"]
                )
                for line in data["lines"]
            ],
            external_id=data["external_id"],
            email=customer["email"],
            name=customer["name"],
            phone=customer["phone"],
            address=dict(data["shipping_address"] or {}),
            delivery_method=data["delivery_method"],
            pickup_location=data["pickup_location"] or None,
            currency=data["currency"],
        )


def _products_named_in(data) -> dict[str, Product]:
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        return {}
    skus = {
        line["sku"]
        for line in lines[:MAX_LINES]
        if isinstance(line, dict) and _queryable(line.get("sku"))
    }
    return {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}


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


def _pickup_error(code: str, channel: Channel) -> Location | str:
    """Return the pickup store, or why it cannot be one."""
    location = Location.objects.filter(code=code).first()
    if location is None:
        return f"No location with code '{code}'."
    if not location.active:
        return f"Location '{code}' is not active."
    if not location.click_and_collect:
        return f"Location '{code}' does not offer click & collect."
    if not channel_locations(channel).filter(pk=location.pk).exists():
        return f"Location '{code}' does not serve channel '{channel.code}'."
    return location


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


def orders_for_output(*, events: bool = True) -> QuerySet[Order]:
    """Return orders with all that `OrderOutputSerializer` reads, in a fixed number of queries."""
    orders = Order.objects.select_related("channel", "pickup_location").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
        Prefetch(
            "lines__allocations",
            queryset=Allocation.objects.holding().select_related("stock__location"),
            to_attr="holding",
        ),
        Prefetch(
            "fulfilments",
            queryset=Fulfilment.objects.select_related("location").order_by("created_at", "id"),
        ),
    )
    if events:
        orders = orders.prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor"))
        )
    return orders


class CustomerOutputSerializer(serializers.Serializer):
    email = serializers.CharField(source="customer_email")
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


class LineOutputSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_no")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    allocated = serializers.SerializerMethodField(
        help_text="Units held for the line: open and shipped allocations."
    )
    shipped = serializers.IntegerField(source="quantity_shipped")
    cancelled = serializers.IntegerField(source="quantity_cancelled")

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
            "unit_price",
        ]

    def get_allocated(self, line: OrderLine) -> int:
        return sum(a.quantity for a in line_holding(line))


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


@extend_schema_field(
    {"type": "string", "enum": Fulfilment.Status.values}, component_name="FulfilmentStatus"
)
class FulfilmentStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Fulfilment.Status.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": Order.Status.values}, component_name="OrderStatus")
class OrderStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Order.Status.choices, **kwargs)


class FulfilmentLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


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
    actor = serializers.SerializerMethodField(help_text="Username, or null for the system.")
    created_at = serializers.DateTimeField()

    def get_actor(self, event) -> str | None:
        return event.actor.get_username() if event.actor_id else None


def fulfilment_lines(allocations) -> list[dict]:
    """Group allocations by SKU, in the order their lines come: `[{"sku", "quantity"}]`."""
    by_sku: dict[str, int] = defaultdict(int)
    for allocation in sorted(allocations, key=lambda a: (a.order_line.line_no, a.pk)):
        by_sku[allocation.order_line.product.sku] += allocation.quantity
    return [{"sku": sku, "quantity": quantity} for sku, quantity in by_sku.items()]


class OrderOutputSerializer(serializers.ModelSerializer):
    """An order, read from `orders.api.views.orders_for_output()` (everything prefetched)."""

    status = OrderStatusField()
    channel = serializers.CharField(source="channel.code")
    customer = CustomerOutputSerializer(source="*")
    shipping_address = ShippingAddressOutputSerializer(source="*")
    pickup_location = serializers.CharField(source="pickup_location.code", allow_null=True)
    lines = LineOutputSerializer(source="lines.all", many=True)
    allocations = serializers.SerializerMethodField(
        help_text="Allocations holding stock now (open) or that left with a shipment."
    )
    fulfilments = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField(
        help_text="The customer's signed tracking page."
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
            "lines",
            "allocations",
            "fulfilments",
            "tracking_url",
            "logistics_cost",
            "needs_attention",
            "attention_reason",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(AllocationOutputSerializer(many=True))
    def get_allocations(self, order: Order) -> list[dict]:
        return AllocationOutputSerializer(_holding(order), many=True).data

    @extend_schema_field(OrderFulfilmentOutputSerializer(many=True))
    def get_fulfilments(self, order: Order) -> list[dict]:
        by_fulfilment: dict[int, list[Allocation]] = defaultdict(list)
        for allocation in _holding(order):
            by_fulfilment[allocation.fulfilment_id].append(allocation)
        for fulfilment in order.fulfilments.all():
            fulfilment.lines = fulfilment_lines(by_fulfilment[fulfilment.pk])
        return OrderFulfilmentOutputSerializer(order.fulfilments.all(), many=True).data

    def get_tracking_url(self, order: Order) -> str:
        return tracking_url(order, self.context.get("request"))


class OrderDetailOutputSerializer(OrderOutputSerializer):
    events = EventOutputSerializer(
        source="events.all",
        many=True,
        help_text="The timeline, oldest first; internal entries have public = false.",
    )

    class Meta(OrderOutputSerializer.Meta):
        fields = [*OrderOutputSerializer.Meta.fields, "events"]


def line_holding(line: OrderLine) -> list[Allocation]:
    """Return the line's open and shipped allocations: prefetched by `orders_for_output()`,
    or read now for an order that came from elsewhere."""
    holding = getattr(line, "holding", None)
    if holding is None:
        holding = list(line.allocations.holding().select_related("stock__location"))
    return holding


def _holding(order: Order) -> list[Allocation]:
    return sorted((a for line in order.lines.all() for a in line_holding(line)), key=lambda a: a.pk)
