"""What the supply endpoints accept (…Input) and answer (…Output), kept apart.

Payloads name products by `sku` and locations by `code`. `from` is a Python keyword: the
fields called so are added to the class's namespace by name.
"""

from __future__ import annotations

from rest_framework import serializers

from core.api.fields import CodeField, SkuField, StrictIntegerField
from inventory.models import LOCATION_CODE_MAX_LENGTH, SKU_MAX_LENGTH, Location, Product
from supply.models import MAX_LINE_QUANTITY, MAX_LINES, NUMBER_MAX_LENGTH, PurchaseOrder, Transfer
from supply.payloads import purchase_order_payload, transfer_payload


def location_by_code(code: str) -> Location:
    location = Location.objects.filter(code=code).first()
    if location is None:
        raise serializers.ValidationError(f"No location with code '{code}'.")
    return location


class SupplyLineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class ReceivedLineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


def products_of(lines: list[dict], *, field: str = "lines") -> list[tuple[Product, int]]:
    """Return `(product, quantity)` for each line, in order; a 400 naming the line for an
    unknown SKU or a SKU given twice."""
    skus = {line["sku"] for line in lines}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    found = []
    for index, line in enumerate(lines):
        sku = line["sku"]
        if sku not in products:
            errors[f"{field}[{index}].sku"] = [f"No product with sku '{sku}'."]
        elif sku in seen:
            errors[f"{field}[{index}].sku"] = [
                f"{sku} is already on {field}[{seen[sku]}]: one line per SKU."
            ]
        else:
            seen[sku] = index
            found.append((products[sku], line["quantity"]))
    if errors:
        raise serializers.ValidationError(errors)
    return found


class TransferInputSerializer(serializers.Serializer):
    vars()["from"] = CodeField(
        max_length=LOCATION_CODE_MAX_LENGTH, help_text="The code of the location it leaves."
    )
    to = CodeField(max_length=LOCATION_CODE_MAX_LENGTH, help_text="The code of its destination.")
    lines = serializers.ListField(
        child=SupplyLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )
    reference = serializers.CharField(max_length=128, allow_blank=True, default="")

    def validate_to(self, value: str) -> Location:
        return location_by_code(value)

    def validate(self, data: dict) -> dict:
        errors = {}
        try:
            data["source"] = location_by_code(data.pop("from"))
        except serializers.ValidationError as error:
            errors["from"] = error.detail
        data["destination"] = data.pop("to")
        if errors:
            raise serializers.ValidationError(errors)
        if data["source"].pk == data["destination"].pk:
            raise serializers.ValidationError({"to": ["A transfer goes to another location."]})
        data["lines"] = products_of(data["lines"])
        return data


class ReceiveInputSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=ReceivedLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )

    def validate(self, data: dict) -> dict:
        data["lines"] = products_of(data["lines"])
        return data


class TransferLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    received = serializers.IntegerField()


class DiscrepancyOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    missing = serializers.IntegerField(help_text="Units shipped that were never received.")


class TransferOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    vars()["from"] = serializers.CharField(help_text="The code of the location it leaves.")
    to = serializers.CharField()
    status = serializers.ChoiceField(choices=Transfer.Status.choices)
    reference = serializers.CharField()
    lines = TransferLineOutputSerializer(many=True)
    discrepancies = DiscrepancyOutputSerializer(
        many=True, help_text="Once received: the lines received short of what shipped."
    )
    created_at = serializers.DateTimeField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Transfer) -> dict:
        return serializers.Serializer.to_representation(self, transfer_payload(instance))


# Purchase orders


class PurchaseOrderInputSerializer(serializers.Serializer):
    number = CodeField(max_length=NUMBER_MAX_LENGTH)
    supplier = serializers.CharField(max_length=255)
    location = CodeField(max_length=LOCATION_CODE_MAX_LENGTH)
    expected_on = serializers.DateField(format="%Y-%m-%d", input_formats=["%Y-%m-%d"])
    lines = serializers.ListField(
        child=SupplyLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )

    def validate_location(self, value: str) -> Location:
        return location_by_code(value)

    def validate(self, data: dict) -> dict:
        data["lines"] = products_of(data["lines"])
        return data


class PurchaseOrderUpdateInputSerializer(serializers.Serializer):
    expected_on = serializers.DateField(format="%Y-%m-%d", input_formats=["%Y-%m-%d"])


class PurchaseOrderLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    received = serializers.IntegerField()
    over_received = serializers.IntegerField(
        help_text="Units received beyond the quantity ordered (flagged, still received)."
    )


class PurchaseOrderOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    supplier = serializers.CharField()
    location = serializers.CharField()
    expected_on = serializers.DateField()
    status = serializers.ChoiceField(choices=PurchaseOrder.Status.choices)
    lines = PurchaseOrderLineOutputSerializer(many=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: PurchaseOrder) -> dict:
        return serializers.Serializer.to_representation(self, purchase_order_payload(instance))
