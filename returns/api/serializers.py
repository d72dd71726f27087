"""Input and output of the returns endpoints (docs/api.md, "Returns, refunds and exchanges")."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import CodeField, SkuField, StrictIntegerField
from inventory.models import LOCATION_CODE_MAX_LENGTH, SKU_MAX_LENGTH, Location, Product
from orders.api.serializers import LineListSerializer
from orders.models import MAX_LINE_QUANTITY
from orders.tracking.links import number_is_plausible
from returns.inputs import ExchangeLineInput, ReceiveLineInput, ReturnInput, ReturnLineInput
from returns.models import Return, ReturnLine, ReturnReceiptLine
from returns.representation import return_representation

MAX_LINES = 500


def _product(sku: str) -> Product:
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise serializers.ValidationError(f"No product with SKU '{sku}'.")
    return product


def _location(code: str | None) -> Location | None:
    if code is None:
        return None
    location = Location.objects.filter(code=code).first()
    if location is None:
        raise serializers.ValidationError(f"No location with code '{code}'.")
    return location


class ReturnLineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    reason = serializers.ChoiceField(choices=ReturnLine.Reason.values)

    class Meta:
        list_serializer_class = LineListSerializer


class ExchangeLineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)

    class Meta:
        list_serializer_class = LineListSerializer


class ReturnInputSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=16, help_text="The order's number.")
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    method = serializers.ChoiceField(choices=Return.Method.values)
    location = CodeField(
        max_length=LOCATION_CODE_MAX_LENGTH,
        allow_null=True,
        required=False,
        default=None,
        help_text="The store it is brought to, or the warehouse it is sent to; "
        "null: the OMS chooses.",
    )
    resolution = serializers.ChoiceField(
        choices=Return.Resolution.values, default=Return.Resolution.REFUND
    )
    exchange_lines = ExchangeLineInputSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_LINES, help_text="Exchange only."
    )

    def to_input(self, *, orders) -> ReturnInput:
        """Return the checked input; `orders` is the caller's visible orders (404 otherwise
        is the view's business: an order it cannot see is named as unknown)."""
        data = self.validated_data
        number = data["order"].strip().upper()
        order = None
        if number_is_plausible(number):
            order = orders.select_related("channel", "pickup_location").filter(number=number)
            order = order.first()
        if order is None:
            raise serializers.ValidationError({"order": [f"No order with number '{number}'."]})
        errors: dict = {}
        products: dict[str, list[Product | None]] = {}
        for field in ("lines", "exchange_lines"):
            found: list[Product | None] = []
            row_errors: list[dict] = []
            for row in data[field]:
                try:
                    found.append(_product(row["sku"]))
                    row_errors.append({})
                except serializers.ValidationError as error:
                    found.append(None)
                    row_errors.append({"sku": error.detail})
            products[field] = found
            if any(row_errors):
                errors[field] = row_errors
        lines = [
            ReturnLineInput(product, row["quantity"], row["reason"])
            for product, row in zip(products["lines"], data["lines"], strict=True)
            if product is not None
        ]
        exchange = [
            ExchangeLineInput(product, row["quantity"])
            for product, row in zip(products["exchange_lines"], data["exchange_lines"], strict=True)
            if product is not None
        ]
        try:
            location = _location(data["location"])
        except serializers.ValidationError as error:
            errors["location"] = error.detail
            location = None
        if errors:
            raise serializers.ValidationError(errors)
        return ReturnInput(
            order=order,
            lines=lines,
            method=data["method"],
            location=location,
            resolution=data["resolution"],
            exchange_lines=exchange,
        )


class ReceiveLineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    disposition = serializers.ChoiceField(choices=ReturnReceiptLine.Disposition.values)

    class Meta:
        list_serializer_class = LineListSerializer


class ReceiveInputSerializer(serializers.Serializer):
    location = CodeField(max_length=LOCATION_CODE_MAX_LENGTH, help_text="Where it is received.")
    lines = ReceiveLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]

    def validate_location(self, value: str) -> Location:
        location = _location(value)
        assert location is not None
        return location

    def to_lines(self) -> list[ReceiveLineInput]:
        rows = self.validated_data["lines"]
        products = {p.sku: p for p in Product.objects.filter(sku__in={r["sku"] for r in rows})}
        errors = [
            {} if row["sku"] in products else {"sku": [f"No product with SKU '{row['sku']}'."]}
            for row in rows
        ]
        if any(errors):
            raise serializers.ValidationError({"lines": errors})
        return [
            ReceiveLineInput(products[row["sku"]], row["quantity"], row["disposition"])
            for row in rows
        ]


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Omitted: the OMS computes it from the received units.",
    )
    reason = serializers.CharField(
        max_length=255,
        required=False,
        default="",
        allow_blank=True,
        help_text="Why a person set the amount (customer service).",
    )


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


# Output: the shape for the schema; `to_representation` draws it with
# returns.representation.return_representation, the one function every answer goes through.


@extend_schema_field(
    {"type": "string", "enum": Return.Status.values}, component_name="ReturnStatus"
)
class ReturnStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Return.Status.choices, **kwargs)


class ReturnLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    received = serializers.IntegerField()
    restocked = serializers.IntegerField(help_text="Received units put back on hand.")
    damaged = serializers.IntegerField(help_text="Received units put aside in quarantine.")
    disposed = serializers.IntegerField(help_text="Received units disposed of.")
    reason = serializers.ChoiceField(choices=ReturnLine.Reason.values)


@extend_schema_field(
    {"type": "string", "enum": ["none", "due", "refunded"]}, component_name="RefundStatus"
)
class RefundStatusField(serializers.CharField):
    pass


class RefundOutputSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='Decimal string, e.g. "39.80".')
    currency = serializers.CharField()
    status = RefundStatusField()


class ReturnOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    order = serializers.CharField(help_text="The order's number.")
    status = ReturnStatusField()
    method = serializers.ChoiceField(choices=Return.Method.values)
    location = serializers.CharField(allow_null=True)
    resolution = serializers.ChoiceField(choices=Return.Resolution.values)
    lines = ReturnLineOutputSerializer(many=True)
    refund = RefundOutputSerializer()
    exchange_order = serializers.CharField(
        allow_null=True, help_text="The exchange order's number."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance: Return) -> dict:
        return return_representation(instance)
