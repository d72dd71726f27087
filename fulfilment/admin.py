"""Fulfilment requests in the admin: a location's queue, with its actions.

Read-only; the actions call the fulfilment services. Shipping and rejecting need a few
words first, asked on an intermediate page.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.admin_scoping import LocationScopedAdmin
from console.changelist import QuickActionCheckbox
from core.paginators import EstimatedCountPaginator
from core.read_only_admin import ReadOnlyAdminMixin
from fulfilment.models import Fulfilment
from fulfilment.services import (
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)
from orders.admin import call_each, console_link
from orders.console.forms import RejectForm, ShipForm
from orders.models import Order

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
