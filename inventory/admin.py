"""The inventory admin: catalogue, locations, stock, the ledger and stock count imports.

Balances change only through `inventory.services`: on hand, allocated and reserved are
never editable here; actions (receive, adjust, transfer, safety stock) and the count
import call the services. The ledger is view-only.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ExportMixin, ImportMixin
from import_export.forms import ConfirmImportForm

from accounts.admin_scoping import ColleagueScopedAdmin, LocationScopedAdmin
from core.admin_exports import BackgroundExportMixin
from core.changelist import QuickActionCheckbox
from core.exceptions import DomainError
from core.paginators import CappedCountPaginator, EstimatedCountPaginator
from core.read_only_admin import ReadOnlyAdminMixin
from core.text import code_lookup_form
from inventory.countfile import count_file_rows
from inventory.models import (
    Allocation,
    Location,
    LocationClosedDay,
    Product,
    StockCountImport,
    StockLevel,
    StockMovement,
)
from inventory.resources import (
    EXPORT_FORMATS,
    CountCSV,
    ProductResource,
    StockCountResource,
    StockLevelResource,
    StockMovementResource,
)
from inventory.services.counts import stock_count_import_start
from inventory.services.ledger import (
    stock_adjust,
    stock_bin_set,
    stock_receive,
    stock_safety_stock_set,
    stock_transfer,
)

# A search by product name lists the stock of at most this many products.
SEARCH_PRODUCTS = 1000
# An action runs one transaction per row: a few hundred at a time, not a whole table.
MAX_ROWS = 500


class EscapedExportMixin(BackgroundExportMixin, ExportMixin):
    """Export as CSV or XLSX with formula escaping (inventory.resources); many rows are
    written by a background job."""

    export_formats = EXPORT_FORMATS

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # As django-import-export does, but it recognises binary formats by exact class:
        # numbers must stay numbers in our XLSX subclass too.
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(
            request, queryset, force_native_type=file_format.is_binary(), **kwargs
        )
        export_data = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        if not file_format.is_binary() and encoding:
            export_data = export_data.encode(encoding)
        return export_data


def _stock_page_link(product: Product):
    url = reverse("console:product-stock", args=[product.sku])
    return format_html('<a href="{}">Stock by location</a>', url)


@admin.register(Product)
class ProductAdmin(EscapedExportMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "barcode", "price", "active", "preorder", "stock_link"]
    list_filter = ["active", "preorder"]
    search_fields = ["^sku", "name", "=barcode"]
    ordering = ["sku"]
    readonly_fields = ["stock_link", "created_at", "updated_at"]
    fields = [
        "sku",
        "name",
        "barcode",
        "price",
        "active",
        "preorder",
        "preorder_cap",
        "stock_link",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False
    resource_classes = [ProductResource]

    @admin.display(description="Stock")
    def stock_link(self, product: Product):
        if product.pk is None:
            return "—"
        return _stock_page_link(product)


WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("7", "Sunday"),
]


class LocationForm(forms.ModelForm):
    """Closed weekdays as boxes to tick; stored as ISO numbers ("6,7")."""

    closed_weekdays = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Days it neither prepares nor hands over orders, every week.",
    )

    class Meta:
        model = Location
        # The admin's fieldsets choose what is shown; the form only reshapes one field.
        exclude: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["closed_weekdays"] = sorted(
                str(day) for day in self.instance.closed_weekday_set
            )

    def clean_closed_weekdays(self) -> str:
        days = sorted(set(self.cleaned_data["closed_weekdays"]))
        if len(days) == 7:
            raise ValidationError("A location closed every day of the week can never serve.")
        return ",".join(days)

    def clean(self):
        data = super().clean()
        if data.get("cutoff_time") and not data.get("time_zone"):
            self.add_error("time_zone", "A cutoff needs the time zone it is read in.")
        return data


class LocationClosedDayInline(admin.TabularInline):
    model = LocationClosedDay
    extra = 1
    verbose_name = "closed day"
    verbose_name_plural = "closed days (public holidays, inventory days ...)"

    def get_queryset(self, request):
        # Past closed days no longer change any promise: the inline lists what is coming.
        since = timezone.localdate() - timedelta(days=31)
        return super().get_queryset(request).filter(date__gte=since)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "city",
        "country",
        "ships",
        "click_and_collect",
        "priority",
        "active",
    ]
    list_filter = ["kind", "active", "ships", "click_and_collect", "country"]
    search_fields = ["^code", "name", "city", "=postcode"]
    ordering = ["code"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "active"]}),
        (
            "Address",
            {"fields": ["address", "city", "postcode", "country", "lat", "lon", "time_zone"]},
        ),
        (
            "Fulfilment",
            {
                "fields": [
                    "ships",
                    "click_and_collect",
                    "priority",
                    "processing_days",
                    "cutoff_time",
                ]
            },
        ),
        (
            "Calendar and click & collect",
            {
                "fields": ["closed_weekdays", "hold_days", "opening_hours"],
                "description": "Public holidays and other closed days: below. The delivery "
                "promise counts open days only, cutoffs in the location's time zone.",
            },
        ),
        ("Costs", {"fields": ["shipment_cost", "cost_per_km", "unit_cost"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    form = LocationForm
    inlines = [LocationClosedDayInline]


# --- Stock --------------------------------------------------------------------------------


class StockStateFilter(admin.SimpleListFilter):
    title = "stock state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("out", "Out of stock (nothing on hand)"),
            ("unavailable", "Nothing available to sell"),
            ("below_safety", "At or below safety stock"),
            ("available", "Available to sell"),
        ]

    def queryset(self, request, queryset):
        # Through the conditions of the partial indexes (inventory.models), word for word,
        # then the availability rule for the rows that hold reservations.
        if self.value() == "out":
            return queryset.filter(on_hand=0)
        if self.value() == "unavailable":
            return queryset.unavailable()
        if self.value() == "below_safety":
            return queryset.below_safety()
        if self.value() == "available":
            return queryset.sellable()
        return queryset


class ReceiveForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, help_text="Units received at each selected row.")
    reference = forms.CharField(max_length=128, required=False, help_text="e.g. a delivery note.")


class AdjustForm(forms.Form):
    quantity = forms.IntegerField(
        help_text="Signed change of on hand for each selected row, e.g. -2 or 5."
    )
    reason = forms.CharField(max_length=255, help_text="Why: recorded on the ledger line.")
    reference = forms.CharField(max_length=128, required=False)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError("An adjustment must change the quantity (not 0).")
        return quantity


class TransferForm(forms.Form):
    destination = forms.ModelChoiceField(
        queryset=Location.objects.filter(active=True), to_field_name="code"
    )
    quantity = forms.IntegerField(min_value=1, help_text="Units moved from each selected row.")
    reference = forms.CharField(max_length=128, required=False)


class SafetyStockForm(forms.Form):
    safety_stock = forms.IntegerField(
        min_value=0, help_text="Units held back from sale at each selected row."
    )


class StockLevelForm(forms.ModelForm):
    class Meta:
        model = StockLevel
        fields = ["safety_stock", "bin"]


class CountConfirmForm(ConfirmImportForm):
    # When the shelves were counted for rows without counted_at: the upload time, kept
    # from the preview so that movements made while the person read it are re-applied.
    counted_at = forms.DateTimeField(widget=forms.HiddenInput(), required=False)


@admin.register(StockLevel)
class StockLevelAdmin(
    QuickActionCheckbox, LocationScopedAdmin, ImportMixin, EscapedExportMixin, admin.ModelAdmin
):
    list_display = [
        "sku",
        "product_name",
        "location_code",
        "on_hand",
        "allocated",
        "reserved",
        "safety_stock",
        "available",
        "updated_at",
    ]
    list_select_related = ["product", "location"]
    list_filter = [StockStateFilter, "location__kind", ("location", admin.RelatedFieldListFilter)]
    search_fields = ["=product__sku", "product__name", "=location__code"]
    search_help_text = "Exact SKU or location code, or part of a product name."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # A page people scan, then narrow with the filters or the search: 50 rows draw in half
    # the time of 100, and drawing rows is most of this page's time.
    list_per_page = 50
    form = StockLevelForm
    fields = [
        "product",
        "location",
        "on_hand",
        "allocated",
        "reserved",
        "safety_stock",
        "bin",
        "available",
        "stock_page",
        "updated_at",
    ]
    readonly_fields = [
        "product",
        "location",
        "on_hand",
        "allocated",
        "reserved",
        "available",
        "stock_page",
        "updated_at",
    ]
    actions = ["receive_units", "adjust_units", "transfer_units", "set_safety_stock"]

    import_formats = [CountCSV]
    import_template_name = "admin/inventory/stocklevel/import.html"
    import_export_change_list_template = "admin/inventory/stocklevel/change_list.html"
    confirm_form_class = CountConfirmForm
    skip_import_confirm = False

    def get_queryset(self, request):
        # Available as the API and sourcing count it: expired reservations are sellable.
        return super().get_queryset(request).select_related("product", "location").with_available()

    def get_search_results(self, request, queryset, search_term):
        # Find the products and the location first (10,000 and 200 rows), then their stock
        # rows by index: one OR across the joins read all 2,000,000 rows (8 s).
        term = search_term.strip()
        if not term or "\x00" in term:
            return queryset, False
        # A SKU or code as it is kept (core.text); a term no key can have matches names only.
        key = code_lookup_form(term) or ""
        products = list(
            Product.objects.filter(Q(sku=key) | Q(name__icontains=term)).values_list(
                "pk", flat=True
            )[:SEARCH_PRODUCTS]
        )
        locations = list(Location.objects.filter(code=key).values_list("pk", flat=True))
        return queryset.filter(Q(product_id__in=products) | Q(location_id__in=locations)), False

    def has_add_permission(self, request):
        return False  # stock rows appear with their first movement or count

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger refers to them

    @admin.display(description="SKU", ordering="product__sku")
    def sku(self, stock: StockLevel) -> str:
        return stock.product.sku

    @admin.display(description="Product", ordering="product__name")
    def product_name(self, stock: StockLevel) -> str:
        return stock.product.name

    @admin.display(description="Location", ordering="location__code")
    def location_code(self, stock: StockLevel) -> str:
        return stock.location.code

    @admin.display(description="Available")
    def available(self, stock: StockLevel) -> int:
        return stock.available

    @admin.display(description="Product stock")
    def stock_page(self, stock: StockLevel):
        return _stock_page_link(stock.product)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Not inside the admin's atomic block: the safety stock service is a durable
        # transaction of its own (it locks the row).
        return self._changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # Only safety stock and the bin are editable, each set through its service (row lock).
        if "safety_stock" in form.changed_data:
            stock_safety_stock_set(
                product=obj.product, location=obj.location, safety_stock=obj.safety_stock
            )
        if "bin" in form.changed_data:
            stock_bin_set(product=obj.product, location=obj.location, bin=obj.bin)

    # Import: stock counts through the count service; export: stock rows.

    def get_import_resource_classes(self, request):
        return [StockCountResource]

    def get_export_resource_classes(self, request):
        return [StockLevelResource]

    def has_import_permission(self, request):
        return request.user.has_perm("inventory.change_stocklevel")

    def has_adjust_permission(self, request):
        # Receipts, adjustments and transfers move units (custom permission, accounts.roles).
        return request.user.has_perm("inventory.adjust_stocklevel")

    def import_action(self, request, **kwargs):
        """Upload and preview a count file; a big one goes to the background instead."""
        if request.method == "POST" and self.has_import_permission(request):
            form = self.create_import_form(request)
            if form.is_valid():
                upload = form.cleaned_data["import_file"]
                data = b"".join(upload.chunks())
                if count_file_rows(data) - 1 > settings.OMS_COUNT_IMPORT_SYNC_MAX_ROWS:
                    return self._import_in_background(request, data, upload.name)
        request.count_counted_at = timezone.now()
        return super().import_action(request, **kwargs)

    def _import_in_background(self, request, data: bytes, file_name: str):
        record = stock_count_import_start(data=data, file_name=file_name, actor=request.user)
        if record.status == StockCountImport.Status.APPLIED:
            messages.warning(
                request,
                f"This file was already applied as import #{record.pk}; nothing was changed.",
            )
        else:
            messages.info(
                request,
                "The file is large: it is being checked in the background. Its preview "
                "appears here when ready.",
            )
        return redirect("console:count-import", pk=record.pk)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["counted_at"] = request.count_counted_at.isoformat()
        return initial

    def get_import_data_kwargs(self, **kwargs):
        form = kwargs.get("form")
        request = kwargs.get("request")
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        data_kwargs.pop("request", None)
        if isinstance(form, CountConfirmForm) and form.cleaned_data.get("counted_at"):
            data_kwargs["counted_at"] = form.cleaned_data["counted_at"]
        else:
            data_kwargs["counted_at"] = getattr(request, "count_counted_at", None)
        return data_kwargs

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        context["sync_max_rows"] = settings.OMS_COUNT_IMPORT_SYNC_MAX_ROWS
        return context

    def process_result(self, result, request):
        if result.rejected:
            # The stock moved since the preview (e.g. a newer count): nothing was applied.
            context = self.admin_site.each_context(request)
            context.update(
                title="Import",
                opts=self.model._meta,
                result=result,
                form=self.get_import_form_class(request)(
                    self.get_import_formats(), self.get_import_resource_classes(request)
                ),
                import_error_display=self.import_error_display,
                sync_max_rows=settings.OMS_COUNT_IMPORT_SYNC_MAX_ROWS,
            )
            return TemplateResponse(request, [self.import_template_name], context)
        record = result.count_import
        if result.already_applied:
            messages.warning(
                request,
                f"This file was already applied as import #{record.pk}; nothing was changed.",
            )
        else:
            LogEntry.objects.log_actions(
                request.user.pk,
                [record],
                ADDITION,
                change_message=f"Applied {len(result.changes)} stock count(s).",
                single_object=True,
            )
            messages.success(
                request,
                f"Applied {len(result.changes)} count(s); {result.moved} balance(s) changed.",
            )
        return redirect("console:count-import", pk=record.pk)

    # Actions: each selected row is one call of a service (one transaction).

    @admin.action(description="Receive units at the selected rows", permissions=["adjust"])
    def receive_units(self, request, queryset):
        def run(stock, data):
            stock_receive(
                product=stock.product,
                location=stock.location,
                quantity=data["quantity"],
                reference=data["reference"],
                actor=request.user,
            )

        return self._form_action(request, queryset, ReceiveForm, "Receive units", run)

    @admin.action(description="Adjust on hand, with a reason", permissions=["adjust"])
    def adjust_units(self, request, queryset):
        def run(stock, data):
            stock_adjust(
                product=stock.product,
                location=stock.location,
                quantity=data["quantity"],
                reason=data["reason"],
                reference=data["reference"],
                actor=request.user,
            )

        return self._form_action(request, queryset, AdjustForm, "Adjust on hand", run)

    @admin.action(description="Transfer units to another location", permissions=["adjust"])
    def transfer_units(self, request, queryset):
        def run(stock, data):
            stock_transfer(
                product=stock.product,
                source=stock.location,
                destination=data["destination"],
                quantity=data["quantity"],
                reference=data["reference"],
                actor=request.user,
            )

        return self._form_action(request, queryset, TransferForm, "Transfer units", run)

    @admin.action(description="Set safety stock", permissions=["change"])
    def set_safety_stock(self, request, queryset):
        def run(stock, data):
            stock_safety_stock_set(
                product=stock.product, location=stock.location, safety_stock=data["safety_stock"]
            )
            # The ledger records who moved units; this records who changed the safety stock.
            self.log_change(request, stock, f"Set safety stock to {data['safety_stock']}.")

        return self._form_action(request, queryset, SafetyStockForm, "Set safety stock", run)

    def _form_action(self, request: HttpRequest, queryset, form_class, title: str, run):
        """Ask for the action's values on an intermediate page, then run it row by row."""
        rows = list(queryset.select_related("product", "location").order_by("pk")[: MAX_ROWS + 1])
        if len(rows) > MAX_ROWS:
            messages.error(request, f"{title}: select at most {MAX_ROWS} stock rows at a time.")
            return None
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, failed = 0, []
            for stock in rows:
                try:
                    run(stock, form.cleaned_data)
                    done += 1
                except DomainError as exc:
                    failed.append(f"{stock.product.sku} @ {stock.location.code}: {exc.message}")
            if done:
                messages.success(request, f"{title}: done for {done} stock row(s).")
            for failure in failed:
                messages.error(request, f"{title}: {failure}")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "rows": rows,
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/inventory/stocklevel/action_form.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(
    ReadOnlyAdminMixin, LocationScopedAdmin, EscapedExportMixin, admin.ModelAdmin
):
    """The ledger: append-only, so view-only here."""

    location_path = "stock__location"

    list_display = [
        "created_at",
        "sku",
        "location_code",
        "kind",
        "signed_quantity",
        "on_hand_after",
        "reference",
        "reason",
        "actor",
        "counted_at",
    ]
    list_select_related = ["stock__product", "stock__location", "actor"]
    list_filter = ["kind", "created_at", ("stock__location", admin.RelatedFieldListFilter)]
    search_fields = ["=stock__product__sku", "=stock__location__code", "=reference"]
    search_help_text = "Exact SKU, location code or reference."
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 100
    resource_classes = [StockMovementResource]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("stock__product", "stock__location", "actor")
        )

    def lookup_allowed(self, lookup, value, request=None):
        # Links from a count import list the movements of its operation.
        return lookup == "operation" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="SKU", ordering="stock__product__sku")
    def sku(self, movement: StockMovement) -> str:
        return movement.stock.product.sku

    @admin.display(description="Location", ordering="stock__location__code")
    def location_code(self, movement: StockMovement) -> str:
        return movement.stock.location.code

    @admin.display(description="Quantity", ordering="quantity")
    def signed_quantity(self, movement: StockMovement) -> str:
        return f"{movement.quantity:+d}"


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdminMixin, LocationScopedAdmin, admin.ModelAdmin):
    """Units promised to order lines: written by allocation, shipping and release only."""

    location_path = "stock__location"

    list_display = [
        "id",
        "order_number",
        "sku",
        "location_code",
        "quantity",
        "status",
        "created_at",
    ]
    list_select_related = ["order_line__order", "stock__product", "stock__location"]
    list_filter = ["status", ("stock__location", admin.RelatedFieldListFilter)]
    search_fields = ["=order_line__order__number", "=stock__product__sku"]
    search_help_text = "Exact order number or SKU."
    ordering = ["-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    @admin.display(description="Order", ordering="order_line__order__number")
    def order_number(self, allocation: Allocation) -> str:
        return allocation.order_line.order.number

    @admin.display(description="SKU", ordering="stock__product__sku")
    def sku(self, allocation: Allocation) -> str:
        return allocation.stock.product.sku

    @admin.display(description="Location", ordering="stock__location__code")
    def location_code(self, allocation: Allocation) -> str:
        return allocation.stock.location.code


@admin.register(StockCountImport)
class StockCountImportAdmin(ReadOnlyAdminMixin, ColleagueScopedAdmin, admin.ModelAdmin):
    """Uploaded stock count files: what became of each. New ones come through
    Stock levels › Import; none is deleted, as its digest keeps the same file from being
    applied twice."""

    list_display = [
        "__str__",
        "created_at",
        "source",
        "status",
        "total_rows",
        "applied_rows",
        "actor",
        "applied_at",
        "details",
    ]
    list_select_related = ["actor"]
    list_filter = ["status", "source", "created_at"]
    search_fields = ["file_name", "=digest"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = [
        "file_name",
        "digest",
        "source",
        "status",
        "phase",
        "counted_at",
        "total_rows",
        "applied_rows",
        "actor",
        "created_at",
        "applied_at",
        "duplicate_of",
        "details",
        "movements",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The file, preview and results can be megabytes: not for a list.
        return super().get_queryset(request).defer("data", "preview", "changes", "errors")

    @admin.display(description="Details")
    def details(self, record: StockCountImport):
        url = reverse("console:count-import", args=[record.pk])
        return format_html('<a href="{}">Progress, preview and results</a>', url)

    @admin.display(description="Ledger")
    def movements(self, record: StockCountImport):
        if record.status != StockCountImport.Status.APPLIED:
            return "—"
        url = reverse("admin:inventory_stockmovement_changelist")
        return format_html(
            '<a href="{}?operation={}">Count movements of this file</a>', url, record.operation
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["import_url"] = reverse("admin:inventory_stocklevel_import")
        return super().changelist_view(request, extra_context)
