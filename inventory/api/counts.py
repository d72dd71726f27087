"""POST /api/v1/stock/counts/: apply a stock count, as JSON lines or as a CSV file (docs/api.md)."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import location_ids_for
from core.api.errors import exception_handler
from core.api.fields import CodeField
from inventory.countfile import (
    MAX_LOCATION_LENGTH,
    count_lines_from_records,
    parse_counted_at,
)
from inventory.exceptions import CountRejected
from inventory.models import Location, StockCountImport
from inventory.services.counts import CountOutcome, stock_count_apply, stock_count_file_apply

# A count file of 100,000 rows is about 3 MB; this leaves room for long SKUs and UTF-16.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LINES = 100_000


class StockCountInputSerializer(serializers.Serializer):
    location = CodeField(max_length=MAX_LOCATION_LENGTH)
    counted_at = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="ISO 8601; without an offset, the location's local time. Default: now.",
    )
    lines = serializers.ListField(
        child=serializers.JSONField(), allow_empty=False, max_length=MAX_LINES
    )

    def validate_location(self, value: str) -> str:
        if not Location.objects.filter(code=value).exists():
            raise serializers.ValidationError(f"unknown location '{value}'")
        return value

    def validate_counted_at(self, value: str | None):
        if not value:
            return None
        parsed, problem = parse_counted_at(value)
        if problem:
            raise serializers.ValidationError(problem)
        return parsed

    def validate(self, attrs: dict) -> dict:
        counted_at = attrs.get("counted_at")
        if counted_at is not None and timezone.is_naive(counted_at):
            # Without an offset, the time is the location's local time (store staff count).
            zone = Location.objects.values_list("time_zone", flat=True).get(code=attrs["location"])
            attrs["counted_at"] = timezone.make_aware(counted_at, ZoneInfo(zone))
        return attrs


class StockCountChangeSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    before = serializers.IntegerField()
    counted = serializers.IntegerField()
    later = serializers.IntegerField(help_text="Movements after counted_at, re-applied.")
    after = serializers.IntegerField()
    difference = serializers.IntegerField()


class StockCountResultSerializer(serializers.Serializer):
    applied = serializers.IntegerField()
    changes = StockCountChangeSerializer(many=True)
    counted_at = serializers.DateTimeField()
    already_applied = serializers.BooleanField()
    count_import = serializers.IntegerField(allow_null=True)


def _rejected_body(exc: CountRejected, *, key: str) -> dict:
    """The count's error envelope: every bad row as a message and as data."""
    label = "lines[{row}]" if key == "lines" else "Row {row}"
    return {
        "errors": {
            key: [f"{label.format(row=e['row'])}: {e['message']}" for e in exc.row_errors],
        },
        "rows": exc.row_errors,
        "code": exc.code,
    }


def _count_exception_handler(exc, context):
    if isinstance(exc, CountRejected):
        key = getattr(context.get("view"), "input_key", "lines")
        return Response(_rejected_body(exc, key=key), status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)


class StockCountView(APIView):
    """Set on hand to what was counted; movements after `counted_at` are re-applied.

    Send JSON `{"location", "counted_at", "lines": [{"sku", "quantity"}]}`, or a CSV file
    (`sku,location,quantity[,counted_at]`) as the multipart field `file`. Any bad row
    rejects everything (400, every bad row listed); a good count applies as one
    transaction (201). The same file sent again is not counted twice: 200 with the first
    result and `already_applied: true`.
    """

    input_key = "lines"

    def get_exception_handler(self):
        return _count_exception_handler

    @extend_schema(
        request={
            "application/json": StockCountInputSerializer,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        responses={
            201: StockCountResultSerializer,
            200: OpenApiResponse(StockCountResultSerializer, "The same file, already applied."),
            400: OpenApiResponse(description="Bad rows; nothing applied."),
        },
    )
    def post(self, request, *args, **kwargs):
        if not isinstance(request.data, Mapping):  # JSON null, a list, a number
            raise serializers.ValidationError(
                {"non_field_errors": ["A JSON object or a multipart form is required."]}
            )
        if "file" in request.FILES or "file" in request.data:
            self.input_key = "file"
            outcome = self._apply_file(request)
        else:
            serializer = StockCountInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            ids = location_ids_for(request.user)
            if (
                ids is not None
                and not Location.objects.filter(code=data["location"], pk__in=ids).exists()
            ):
                raise NotFound(f"No location with code '{data['location']}'.")
            lines, errors, unchecked = count_lines_from_records(
                data["lines"], location=data["location"], counted_at=None
            )
            outcome = stock_count_apply(
                lines=lines,
                errors=errors,
                unchecked=unchecked,
                counted_at=data.get("counted_at"),
                actor=request.user,
                reference="stock count (API)",
            )
        body = {
            "applied": outcome.applied,
            "changes": [change.as_dict() for change in outcome.changes],
            "counted_at": outcome.counted_at,
            "already_applied": outcome.already_applied,
            "count_import": outcome.count_import.pk if outcome.count_import else None,
        }
        answer = status.HTTP_200_OK if outcome.already_applied else status.HTTP_201_CREATED
        return Response(StockCountResultSerializer(body).data, status=answer)

    def _apply_file(self, request) -> CountOutcome:
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": ["Send the CSV as a file upload."]})
        if upload.size > MAX_FILE_BYTES:
            raise serializers.ValidationError(
                {"file": [f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."]}
            )
        return stock_count_file_apply(
            data=upload.read(),
            actor=request.user,
            source=StockCountImport.Source.API,
            file_name=upload.name or "",
        )
