"""Orders and channels in the admin.

Orders are read-only here: every change goes through a service, from the actions below or
from the console's order page (linked from each row and each change page).
"""

from __future__ import annotations

import itertools
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_scoping import LocationScopedAdmin, OrderScopedAdmin
from core.changelist import QuickActionCheckbox
from core.currencies import currency_problem
from core.exceptions import DomainError
from core.paginators import EstimatedCountPaginator
from core.read_only_admin import ReadOnlyAdminMixin
from fulfilment.models import Fulfilment
from orders.console.forms import OrderCancelForm, RejectForm, ShipForm
from orders.inputs import phone_digits
from orders.models import (
    CarrierService,
    Channel,
    DeliveryPrice,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    ReservationLine,
    TransitBand,
    external_id_is,
)
from orders.selectors import orders_at_risk, orders_late
from orders.services.fulfilments import (
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)
from orders.services.lifecycle import order_cancel, order_resource

ORDER_PERMISSION = "orders.change_order"
# A custom permission (accounts.roles): cancelling is more than changing an order.
CANCEL_PERMISSION = "orders.cancel_order"
SEARCH_LIMIT = 1000
PHONE_LIKE = re.compile(r"^\+?[0-9 ().\-/]+$")


def order_ids_matching(term: str) -> set[int]:
    """Return the ids of orders whose number, e-mail, phone, external id or a fulfilment's
    tracking number is exactly `term`: indexed equality only, no scan."""
    term = term.strip()
    if not term or "\x00" in term:
        return set()
    match = Q(number__in={term, term.upper()}) | external_id_is(term)
    if "@" in term:
        match |= Q(customer_email=term.lower())
    if PHONE_LIKE.match(term) and (digits := phone_digits(term)):
        match |= Q(customer_phone_digits=digits)
    ids = set(Order.objects.filter(match).values_list("pk", flat=True)[:SEARCH_LIMIT])
    ids.update(
        Fulfilment.objects.filter(tracking_number=term).values_list("order_id", flat=True)[
            :SEARCH_LIMIT
        ]
    )
    return ids


def console_link(order: Order, text: str = "Open") -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("orders_console:order", args=[order.number]), text
    )


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "line_no",
        "product",
        "quantity",
        "unit_price",
        "quantity_shipped",
        "quantity_cancelled",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class FulfilmentInline(LocationScopedAdmin, ReadOnlyInline):
    model = Fulfilment
    fields = ["location", "status", "carrier", "tracking_number", "reason", "created_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "message", "public", "actor"]
    readonly_fields = fields
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class PromiseFilter(admin.SimpleListFilter):
    """Orders that will miss their promised date (orders.selectors.orders_at_risk)."""

    title = "promise"
    parameter_name = "promise"

    def lookups(self, request, model_admin):
        return [("at_risk", "At risk (due today or waiting for stock)"), ("late", "Late")]

    def queryset(self, request, queryset):
        if self.value() == "at_risk":
            return queryset.filter(pk__in=orders_at_risk().values("pk"))
        if self.value() == "late":
            return queryset.filter(pk__in=orders_late().values("pk"))
        return queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, QuickActionCheckbox, OrderScopedAdmin, admin.ModelAdmin):
    list_display = [
        "number",
        "channel",
        "status",
        "customer",
        "created_at",
        "logistics_cost",
        "needs_attention",
        "console",
    ]
    list_filter = ["status", "channel", "delivery_method", PromiseFilter, "needs_attention"]
    list_select_related = ["channel"]
    # The search box is answered by get_search_results (exact, indexed); this only shows it.
    search_fields = ["number"]
    search_help_text = (
        "An order number, e-mail, phone number, external id or tracking number, exactly."
    )
    show_full_result_count = False
    # A million orders: count up to a cap, never the whole table (core.paginators).
    paginator = EstimatedCountPaginator
    # A page people scan, then narrow with the filters or the search: 50 rows draw in half
    # the time of 100, and drawing rows is most of this page's time.
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    inlines = [OrderLineInline, FulfilmentInline, OrderEventInline]
    actions = ["cancel_orders", "resource_orders"]
    fieldsets = [
        (None, {"fields": ["number", "status", "channel", "external_id", "console"]}),
        (
            "Customer",
            {"fields": ["customer_name", "customer_email", "customer_phone"]},
        ),
        (
            "Delivery",
            {
                "fields": [
                    "delivery_method",
                    "pickup_location",
                    "ship_line1",
                    "ship_line2",
                    "ship_postcode",
                    "ship_city",
                    "ship_country",
                    "ship_lat",
                    "ship_lon",
                    "promised_date",
                ]
            },
        ),
        (
            "Sourcing",
            {
                "fields": [
                    "currency",
                    "logistics_cost",
                    "sourcing_attempts",
                    "needs_attention",
                    "attention_reason",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    readonly_fields = ["console", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel", "pickup_location")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=order_ids_matching(search_term)), False

    @admin.display(description="customer", ordering="customer_email")
    def customer(self, order: Order) -> str:
        if order.customer_name and order.customer_email:
            return f"{order.customer_name} <{order.customer_email}>"
        return order.customer_name or order.customer_email

    @admin.display(description="console")
    def console(self, order: Order) -> str:
        return console_link(order, "Order page")

    def has_customer_service_permission(self, request) -> bool:
        return request.user.has_perm(ORDER_PERMISSION)

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm(CANCEL_PERMISSION)

    @admin.action(description="Cancel selected orders…", permissions=["cancel"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]):
        form = OrderCancelForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = call_each(
                self,
                request,
                queryset,
                lambda order: order_cancel(
                    order=order, actor=request.user, reason=form.cleaned_data["reason"]
                ),
            )
            if done:
                self.message_user(request, f"{done} order(s) cancelled.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel orders",
            "opts": self.model._meta,
            "orders": queryset,
            "form": form,
            "action": "cancel_orders",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order_cancel.html", context)

    @admin.action(description="Source selected orders again", permissions=["customer_service"])
    def resource_orders(self, request: HttpRequest, queryset: QuerySet[Order]):
        done = call_each(
            self, request, queryset, lambda order: order_resource(order=order, actor=request.user)
        )
        if done:
            self.message_user(request, f"{done} order(s) sourced again.", messages.SUCCESS)


def call_each(model_admin, request, queryset, work) -> int:
    """Call `work` on each object; tell each domain error; return how many succeeded."""
    done = 0
    for obj in queryset:
        try:
            work(obj)
        except DomainError as error:
            model_admin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            done += 1
    return done


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "buffer_units", "buffer_percent", "exchange_shipping"]
    list_filter = ["active", "exchange_shipping"]
    fields = [
        "code",
        "name",
        "active",
        "locations",
        "buffer_units",
        "buffer_percent",
        "pickup_transfer",
        "return_days",
        "exchange_shipping",
    ]
    filter_horizontal = ["locations"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        # Integrations send the code: it does not change once the channel exists.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        # Orders keep their channel; deactivate a channel instead.
        return False


# Delivery options: carriers and their transit bands, prices per channel; reservations.


class TransitBandFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Refuse bands that contradict each other: a farther band is never faster."""
        super().clean()
        bands = sorted(
            (form.cleaned_data["max_km"], form.cleaned_data["days"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("max_km")
            and form.cleaned_data.get("days")
        )
        for (near_km, near_days), (far_km, far_days) in itertools.pairwise(bands):
            if far_days < near_days:
                raise ValidationError(
                    f"Up to {far_km} km in {far_days} day(s) is faster than up to {near_km} km "
                    f"in {near_days}: a farther band cannot be faster."
                )
        active = getattr(self.instance, "active", False)
        if active and not bands:
            raise ValidationError("An active service needs at least one transit band.")


class TransitBandInline(admin.TabularInline):
    model = TransitBand
    formset = TransitBandFormSet
    extra = 1
    min_num = 0


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "method", "active", "bands", "closed_weekdays"]
    list_filter = ["method", "active"]
    search_fields = ["code", "name"]
    inlines = [TransitBandInline]
    fields = ["code", "name", "method", "active", "closed_weekdays", "updated_at"]
    readonly_fields = ["updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("bands")

    @admin.display(description="Transit")
    def bands(self, service: CarrierService) -> str:
        return ", ".join(str(band) for band in service.bands.all()) or "—"


class DeliveryPriceForm(forms.ModelForm):
    class Meta:
        model = DeliveryPrice
        fields = ["channel", "method", "price", "free_above", "currency", "active"]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"]
        problem = currency_problem(currency)
        if problem:
            raise forms.ValidationError(problem)
        return currency.upper()


@admin.register(DeliveryPrice)
class DeliveryPriceAdmin(admin.ModelAdmin):
    form = DeliveryPriceForm
    list_display = ["channel", "method", "price", "free_above", "currency", "active"]
    list_filter = ["channel", "method", "active"]
    list_select_related = ["channel"]
    search_fields = ["channel__code", "channel__name", "=method"]


class ReservationLineInline(ReadOnlyInline):
    model = ReservationLine
    fields = ["line_no", "product", "stock", "quantity", "expires_at", "active"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "stock__location")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, LocationScopedAdmin, admin.ModelAdmin):
    """Basket holds: written by the reservation services only, so view-only here."""

    # Staff of a location see the holds on their stock.
    location_path = "lines__stock__location"

    list_display = ["public_id", "channel", "status", "expires_at", "order", "created_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["channel", "order"]
    search_fields = ["=public_id", "=order__number"]
    inlines = [ReservationLineInline]


# Fulfilment requests: a location's queue, read-only, with its actions. Each action moves the
# fulfilment's order as well, so the queue is administered with the orders.

FULFILMENT_PERMISSION = "fulfilment.change_fulfilment"


@admin.register(Fulfilment)
class FulfilmentAdmin(
    ReadOnlyAdminMixin, QuickActionCheckbox, LocationScopedAdmin, admin.ModelAdmin
):
    list_display = [
        "id",
        "order_page",
        "location",
        "status",
        "carrier",
        "tracking_number",
        "created_at",
    ]
    list_filter = ["status", "location"]
    list_select_related = ["order", "location"]
    search_fields = ["tracking_number"]
    search_help_text = "A tracking number or an order number, exactly."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # A page people scan, then narrow with the filters or the search: 50 rows draw in half
    # the time of 100, and drawing rows is most of this page's time.
    list_per_page = 50
    actions = ["accept", "mark_ready", "mark_collected", "ship", "reject"]
    fields = [
        "order_page",
        "location",
        "status",
        "carrier",
        "tracking_number",
        "reason",
        "created_at",
        "accepted_at",
        "shipped_at",
        "ready_at",
        "collected_at",
    ]
    readonly_fields = ["order_page"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "location")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or "\x00" in term:
            return queryset, False
        # The order's ids first: one OR across the join read every fulfilment (10 s at 1M).
        orders = list(
            Order.objects.filter(number__in={term, term.upper()}).values_list("pk", flat=True)
        )
        return queryset.filter(Q(tracking_number=term) | Q(order_id__in=orders)), False

    @admin.display(description="order", ordering="order__number")
    def order_page(self, fulfilment: Fulfilment) -> str:
        return console_link(fulfilment.order, fulfilment.order.number)

    def has_fulfil_permission(self, request) -> bool:
        return request.user.has_perm(FULFILMENT_PERMISSION)

    def _simple(self, request, queryset, service, said: str) -> None:
        done = call_each(
            self,
            request,
            queryset,
            lambda fulfilment: service(fulfilment_id=fulfilment.pk, actor=request.user),
        )
        if done:
            self.message_user(request, f"{done} fulfilment(s) {said}.", messages.SUCCESS)

    @admin.action(description="Accept selected requests", permissions=["fulfil"])
    def accept(self, request: HttpRequest, queryset: QuerySet[Fulfilment]):
        self._simple(request, queryset, fulfilment_accept, "accepted")

    @admin.action(description="Mark ready for pickup", permissions=["fulfil"])
    def mark_ready(self, request: HttpRequest, queryset: QuerySet[Fulfilment]):
        self._simple(request, queryset, fulfilment_ready, "marked ready for pickup")

    @admin.action(description="Mark collected by the customer", permissions=["fulfil"])
    def mark_collected(self, request: HttpRequest, queryset: QuerySet[Fulfilment]):
        self._simple(request, queryset, fulfilment_collect, "collected")

    @admin.action(description="Ship selected…", permissions=["fulfil"])
    def ship(self, request: HttpRequest, queryset: QuerySet[Fulfilment]):
        fulfilments = list(queryset)
        data = request.POST if "apply" in request.POST else None
        forms = [(f, ShipForm(data, prefix=f"f{f.pk}")) for f in fulfilments]
        if data is not None and all(form.is_valid() for _, form in forms):
            cleaned = {f.pk: form.cleaned_data for f, form in forms}
            done = call_each(
                self,
                request,
                fulfilments,
                lambda f: fulfilment_ship(fulfilment_id=f.pk, actor=request.user, **cleaned[f.pk]),
            )
            if done:
                self.message_user(request, f"{done} fulfilment(s) shipped.", messages.SUCCESS)
            return None
        return self._ask(request, "ship", "Ship fulfilments", {"forms": forms})

    @admin.action(description="Reject selected…", permissions=["fulfil"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Fulfilment]):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = call_each(
                self,
                request,
                queryset,
                lambda f: fulfilment_reject(
                    fulfilment_id=f.pk, actor=request.user, **form.cleaned_data
                ),
            )
            if done:
                self.message_user(
                    request,
                    f"{done} fulfilment(s) rejected; their lines were sourced again.",
                    messages.SUCCESS,
                )
            return None
        return self._ask(
            request, "reject", "Reject fulfilments", {"form": form, "fulfilments": queryset}
        )

    def _ask(self, request, action: str, title: str, extra: dict) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **extra,
        }
        return TemplateResponse(request, f"admin/orders/fulfilment_{action}.html", context)
