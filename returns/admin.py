"""Returns in the admin: read-only (the services write them), scoped to the user's locations."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_scoping import LocationScopedAdmin
from core.read_only_admin import ReadOnlyAdminMixin
from returns.models import Refund, Return, ReturnLine, ReturnReceipt


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = readonly_fields = (
        "line_no",
        "product",
        "quantity",
        "reason",
        "received",
        "restocked",
        "damaged",
        "disposed",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class ReturnReceiptInline(ReadOnlyInline):
    model = ReturnReceipt
    fields = readonly_fields = ("created_at", "location", "source", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location", "actor")


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = readonly_fields = (
        "amount",
        "currency",
        "computed_amount",
        "reason",
        "actor",
        "created_at",
    )


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdminMixin, LocationScopedAdmin, admin.ModelAdmin):
    """Returns expected at a location: its staff see those, like its fulfilments."""

    list_display = [
        "number",
        "order",
        "status",
        "method",
        "resolution",
        "location",
        "exchange_order",
        "created_at",
    ]
    list_filter = ["status", "method", "resolution", "location"]
    list_select_related = ["order", "location", "exchange_order"]
    search_fields = ["=number", "=order__number"]
    date_hierarchy = None
    inlines = [ReturnLineInline, ReturnReceiptInline, RefundInline]
