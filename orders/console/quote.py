"""The quote page (/console/orders/quote/): staff try a basket and a destination and see the
delivery options, and why each method was or was not offered. Read only: nothing is held."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from inventory.models import Product
from orders.models import MAX_LINE_QUANTITY, Channel
from orders.services.delivery_options import Destination, delivery_quote

MAX_QUOTE_LINES = 50


class QuoteForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(active=True), to_field_name="code", empty_label=None
    )
    basket = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 30}),
        help_text="One line per product: SKU and quantity, e.g. AP-10001 2.",
    )
    postcode = forms.CharField(max_length=16, required=False)
    country = forms.CharField(max_length=2, required=False, initial="FR")
    lat = forms.FloatField(min_value=-90, max_value=90, required=False)
    lon = forms.FloatField(min_value=-180, max_value=180, required=False)
    at = forms.DateTimeField(
        required=False,
        help_text="Quote as at this moment (shop time zone), e.g. 2026-03-02 11:59; now if empty.",
    )

    def clean_basket(self) -> list[tuple[Product, int]]:
        wanted: dict[str, int] = {}
        for number, raw in enumerate(self.cleaned_data["basket"].splitlines(), start=1):
            parts = raw.replace(",", " ").replace(";", " ").split()
            if not parts:
                continue
            if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
                raise forms.ValidationError(f"Line {number}: write a SKU and a quantity.")
            quantity = int(parts[1]) if len(parts) == 2 else 1
            if not 1 <= quantity <= MAX_LINE_QUANTITY:
                raise forms.ValidationError(f"Line {number}: 1 to {MAX_LINE_QUANTITY} units.")
            wanted[parts[0]] = wanted.get(parts[0], 0) + quantity
        if not wanted:
            raise forms.ValidationError("Give at least one SKU.")
        if len(wanted) > MAX_QUOTE_LINES:
            raise forms.ValidationError(f"At most {MAX_QUOTE_LINES} SKUs.")
        products = {p.sku: p for p in Product.objects.filter(sku__in=wanted, active=True)}
        unknown = sorted(set(wanted) - products.keys())
        if unknown:
            raise forms.ValidationError(f"Unknown or inactive SKU: {', '.join(unknown)}.")
        return [(products[sku], quantity) for sku, quantity in wanted.items()]

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise forms.ValidationError("Give lat and lon together, or neither.")
        return data


@staff_member_required
@require_GET
def quote_page(request: HttpRequest) -> HttpResponse:
    form = QuoteForm(request.GET or None)
    quote = None
    if form.is_valid():
        data = form.cleaned_data
        quote = delivery_quote(
            channel=data["channel"],
            lines=data["basket"],
            destination=Destination(
                lat=data["lat"],
                lon=data["lon"],
                postcode=data["postcode"],
                country=data["country"].upper(),
            ),
            at=data["at"] or timezone.now(),
        )
    context = {
        **admin.site.each_context(request),
        "title": "Delivery quote",
        "form": form,
        "quote": quote,
    }
    return render(request, "orders/console/quote.html", context)
