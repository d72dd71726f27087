"""Connectors in the admin: shown, never written there (PUT /api/v1/channels/{code}/connector/
seals the secrets and checks the address; a form would store them as typed)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_scoping import OrderScopedAdmin
from connectors.models import Connector, ConnectorLocation, StorefrontOrder
from connectors.sealing import SecretUnreadable
from core.read_only_admin import ReadOnlyAdminMixin


class ConnectorLocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConnectorLocation
    fields = ("location", "remote_id")
    extra = 0


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("channel", "kind", "base_url", "active", "updated_at")
    list_select_related = ("channel",)
    list_filter = ("kind", "active")
    fields = ("channel", "kind", "base_url", "active", "secrets", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [ConnectorLocationInline]

    @admin.display(description="secrets")
    def secrets(self, connector: Connector) -> str:
        try:
            return (
                f"webhook secret …{connector.last_four('webhook_secret')}, "
                f"access token …{connector.last_four('access_token')}"
            )
        except SecretUnreadable as unreadable:
            return str(unreadable)


@admin.register(StorefrontOrder)
class StorefrontOrderAdmin(ReadOnlyAdminMixin, OrderScopedAdmin, admin.ModelAdmin):
    # Staff of a location see those that became orders their location works on; the ones
    # to fix belong to no location yet: customer service's, the whole network's.
    order_prefix = "order__"

    list_display = ("received_at", "connector", "topic", "remote_order_id", "status", "order")
    list_select_related = ("connector__channel", "order")
    list_filter = ("status", "connector__kind")
    search_fields = ("remote_order_id", "webhook_id")
    exclude = ("body",)
    readonly_fields = (
        "connector",
        "topic",
        "webhook_id",
        "remote_order_id",
        "status",
        "reason",
        "order",
        "attempts",
        "received_at",
        "processed_at",
    )
