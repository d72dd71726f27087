"""Transfers and purchase orders in the admin: lists to find them, pages to read them, and
actions that call the services. They are made through the API and the console, where their
units are held and checked; the admin changes none of their fields by hand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q

from accounts.admin_scoping import LocationScopedAdmin
from accounts.scoping import location_ids_for
from core.exceptions import DomainError
from supply.models import PurchaseOrder, PurchaseOrderLine, Transfer, TransferLine
from supply.services.purchase_orders import purchase_order_cancel
from supply.services.transfers import transfer_cancel, transfer_ship


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TransferLineInline(_ReadOnlyInline):
    model = TransferLine
    fields = ("product", "quantity", "received")
    readonly_fields = ("product", "quantity", "received")


class PurchaseOrderLineInline(_ReadOnlyInline):
    model = PurchaseOrderLine
    fields = ("product", "quantity", "received")
    readonly_fields = ("product", "quantity", "received")


def _each(modeladmin, request, queryset, service, done: str) -> None:
    count = 0
    for pk in queryset.values_list("pk", flat=True):
        try:
            service(pk, request.user)
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.WARNING)
        else:
            count += 1
    modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)


@admin.register(Transfer)
class TransferAdmin(LocationScopedAdmin, admin.ModelAdmin):
    list_display = ["number", "source", "destination", "status", "reference", "created_at"]
    list_filter = ["status", "source", "destination"]
    list_select_related = ["source", "destination"]
    search_fields = ["number", "reference", "order__number"]
    readonly_fields = (
        "number",
        "source",
        "destination",
        "status",
        "reference",
        "order",
        "actor",
        "created_at",
        "shipped_at",
        "received_at",
        "cancelled_at",
    )
    fields = readonly_fields
    inlines = [TransferLineInline]
    actions = ["ship", "cancel"]

    def scope_queryset(self, request, queryset):
        # A transfer belongs to both the location it leaves and the one it reaches.
        ids = location_ids_for(request.user)
        if ids is None:
            return queryset
        return queryset.filter(Q(source_id__in=ids) | Q(destination_id__in=ids))

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Ship the selected transfers", permissions=["change"])
    def ship(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda pk, actor: transfer_ship(transfer_id=pk, actor=actor),
            "transfer(s) shipped",
        )

    @admin.action(description="Cancel the selected transfers", permissions=["change"])
    def cancel(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda pk, actor: transfer_cancel(transfer_id=pk, actor=actor),
            "transfer(s) cancelled",
        )


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(LocationScopedAdmin, admin.ModelAdmin):
    list_display = ["number", "supplier", "location", "expected_on", "status", "created_at"]
    list_filter = ["status", "location"]
    list_select_related = ["location"]
    search_fields = ["number", "supplier"]
    readonly_fields = (
        "number",
        "supplier",
        "location",
        "expected_on",
        "status",
        "actor",
        "created_at",
        "received_at",
        "cancelled_at",
    )
    fields = readonly_fields
    inlines = [PurchaseOrderLineInline]
    actions = ["cancel"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Cancel the selected purchase orders", permissions=["change"])
    def cancel(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda pk, actor: purchase_order_cancel(purchase_order_id=pk, actor=actor),
            "purchase order(s) cancelled",
        )
