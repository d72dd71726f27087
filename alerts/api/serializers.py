"""Alerts API shapes (docs/api.md "Alerts"): input and output apart."""

from __future__ import annotations

from rest_framework import serializers

from alerts.models import MAX_LEAD_TIME_DAYS, MAX_THRESHOLD, Alert, StockRule
from core.api.fields import CodeField, SkuField
from inventory.models import LOCATION_CODE_MAX_LENGTH, SKU_MAX_LENGTH


class AlertOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", default=None, allow_null=True)
    location = serializers.CharField(source="location.code", default=None, allow_null=True)
    order = serializers.CharField(source="order.number", default=None, allow_null=True)
    details = serializers.JSONField()

    class Meta:
        model = Alert
        fields = ["id", "kind", "status", "sku", "location", "order", "opened_at", "details"]
        read_only_fields = fields


class SnoozeInputSerializer(serializers.Serializer):
    until = serializers.DateTimeField(help_text="ISO 8601 with offset; in the future.")


class StockRuleInputSerializer(serializers.Serializer):
    sku = SkuField(
        allow_null=True, max_length=SKU_MAX_LENGTH, help_text="null: every product (a default)."
    )
    location = CodeField(
        allow_null=True,
        max_length=LOCATION_CODE_MAX_LENGTH,
        help_text="null: every location (a default).",
    )
    threshold = serializers.IntegerField(min_value=0, max_value=MAX_THRESHOLD)
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=MAX_LEAD_TIME_DAYS, required=False, allow_null=True
    )


class StockRuleOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", default=None, allow_null=True)
    location = serializers.CharField(source="location.code", default=None, allow_null=True)

    class Meta:
        model = StockRule
        fields = ["id", "scope", "sku", "location", "threshold", "lead_time_days", "updated_at"]
        read_only_fields = fields
