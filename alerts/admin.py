"""The alerts admin: alerts with their actions, thresholds (CSV import and export), policy.

Alerts are written by evaluations and the lifecycle services only: nothing here edits
one; the actions call the services.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from accounts.admin_scoping import ColleagueScopedAdmin, LocationScopedAdmin
from accounts.scoping import is_limited
from alerts.models import Alert, AlertPolicy, DigestReceipt, NetworkRule, StockRule
from alerts.resources import StockRuleResource
from alerts.selectors import alerts_visible_to
from alerts.services import alert_acknowledge, alert_resolve, alert_snooze
from alerts.services.rules import network_rule_save, stock_rule_save
from core.admin_exports import BackgroundExportMixin
from core.exceptions import DomainError

MAX_ROWS = 500


def _each(request, queryset, service, done: str, **kwargs) -> None:
    changed, refused = 0, []
    for alert in queryset[:MAX_ROWS]:
        try:
            service(alert=alert, actor=request.user, **kwargs)
            changed += 1
        except DomainError as exc:
            refused.append(f"#{alert.pk}: {exc.message}")
    if changed:
        messages.info(request, f"{changed} alert(s) {done}.")
    for message in refused[:10]:
        messages.warning(request, message)


@admin.register(Alert)
class AlertAdmin(LocationScopedAdmin, admin.ModelAdmin):
    list_display = ["id", "kind", "status", "about", "opened_at", "snoozed_until", "reopened"]
    list_filter = ["status", "kind", "location"]
    list_select_related = ["product", "location", "order"]
    search_fields = ["=product__sku", "=location__code", "=order__number", "subject"]
    date_hierarchy = "opened_at"
    show_full_result_count = False
    actions = ["acknowledge", "snooze_a_day", "resolve"]
    readonly_fields = [
        "kind", "subject", "status", "product", "location", "order", "details", "opened_at",
        "acknowledged_at", "acknowledged_by", "snoozed_until", "resolved_at", "resolved_by",
        "resolution", "reopened",
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return alerts_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="About")
    def about(self, alert: Alert):
        if alert.order_id:
            url = reverse("orders_console:order", args=[alert.order.number])
            return format_html('<a href="{}">Order {}</a>', url, alert.order.number)
        if alert.product_id:
            url = reverse("console:product-stock", args=[alert.product.sku])
            where = f" @ {alert.location.code}" if alert.location_id else ""
            return format_html('<a href="{}">{}</a>{}', url, alert.product.sku, where)
        return alert.location.code if alert.location_id else alert.subject

    @admin.action(description="Acknowledge the selected alerts", permissions=["change"])
    def acknowledge(self, request, queryset):
        _each(request, queryset, alert_acknowledge, "acknowledged")

    @admin.action(description="Snooze the selected alerts for a day", permissions=["change"])
    def snooze_a_day(self, request, queryset):
        until = timezone.now() + timedelta(days=1)
        _each(request, queryset, alert_snooze, "snoozed for a day", until=until)

    @admin.action(description="Resolve the selected alerts", permissions=["change"])
    def resolve(self, request, queryset):
        _each(request, queryset, alert_resolve, "resolved")


@admin.register(StockRule)
class StockRuleAdmin(LocationScopedAdmin, BackgroundExportMixin, ImportExportModelAdmin):
    resource_classes = [StockRuleResource]
    list_display = ["__str__", "scope", "threshold", "lead_time_days", "updated_at"]
    list_filter = ["scope"]
    list_select_related = ["product", "location"]
    search_fields = ["=product__sku", "=location__code"]
    autocomplete_fields = ["product", "location"]
    fields = ["product", "location", "threshold", "lead_time_days"]

    def save_model(self, request, obj, form, change):
        stock_rule_save(rule=obj)

    def has_import_permission(self, request: HttpRequest) -> bool:
        # A file may name any location, and defaults cover every one: head office only.
        return request.user.has_perms(
            ["alerts.add_stockrule", "alerts.change_stockrule"]
        ) and not is_limited(request.user)


@admin.register(NetworkRule)
class NetworkRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "scope", "threshold", "updated_at"]
    list_filter = ["scope"]
    list_select_related = ["product", "channel"]
    search_fields = ["=product__sku", "=channel__code"]
    autocomplete_fields = ["product"]
    fields = ["product", "channel", "threshold"]

    def save_model(self, request, obj, form, change):
        network_rule_save(rule=obj)


@admin.register(AlertPolicy)
class AlertPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "velocity_window_days", "lead_time_days", "digest_interval_minutes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The one row always exists (the migration makes it; the list below remakes it if it
        # went), so there is nothing to add. Answered without a query: every admin and
        # console page asks this of each model for its navigation.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # Its changelist creates the one policy row when missing: a read a write depends on, so
    # not from the read replica (accounts.admin_reads).
    changelist_on_primary = True

    def changelist_view(self, request, extra_context=None):
        # One row: go straight to it.
        return redirect("admin:alerts_alertpolicy_change", AlertPolicy.current().pk)


@admin.register(DigestReceipt)
class DigestReceiptAdmin(ColleagueScopedAdmin, admin.ModelAdmin):
    # Staff of a location see the digests of people of their locations only.
    actor_path = "user"
    list_display = ["user", "sent_at", "alerts"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "sent_at", "alerts"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
