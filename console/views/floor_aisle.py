"""The endless aisle: store staff see which nearby store has a product for the customer in
front of them, nearest first, and order it for them from the console (shipped home, or
collected at another store) through the same order capture as the API."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import cast

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from console.selectors.floor import stock_here, stock_nearby
from console.views.context import console_context
from console.views.floor import floor_location, person
from core.exceptions import DomainError
from core.text import code_lookup_form
from inventory.models import Location, Product
from orders.delivery.promise import distance_km
from orders.inputs import LineInput, OrderInput
from orders.models import MAX_LINE_QUANTITY, Channel, Order
from orders.services.capture import order_place
from orders.tracking.links import tracking_url

ORDER_PERMISSION = "orders.add_order"
STORE_CHANNEL = "store"
HOME = "home"
COLLECT = "collect"


def _product(sku: str) -> Product:
    key = code_lookup_form(sku)
    product = Product.objects.filter(sku__iexact=key).first() if key else None
    if product is None:
        raise Http404("No such product.")
    return product


@require_GET
@staff_member_required
def stock_nearby_page(request: HttpRequest, sku: str) -> HttpResponse:
    """Show the product's stock here and at the nearest stores that have some to sell."""
    location, _ = floor_location(request)
    product = _product(sku)
    context = console_context(
        request,
        title=f"{product.sku} near {location.name}",
        location=location,
        product=product,
        here=stock_here(product=product, location=location),
        nearby=stock_nearby(product=product, origin=location),
        can_order=request.user.has_perm(ORDER_PERMISSION),
    )
    return render(request, "console/floor/stock_nearby.html", context)


class AisleOrderForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=64)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)
    delivery = forms.ChoiceField(
        choices=[(HOME, "Ship to the customer's home"), (COLLECT, "Collect at a store")],
        widget=forms.RadioSelect,
        initial=HOME,
    )
    pickup_store = forms.ChoiceField(label="Store to collect at", required=False)
    name = forms.CharField(label="Customer's name", max_length=255)
    email = forms.EmailField(label="Customer's e-mail", max_length=254)
    phone = forms.CharField(label="Phone", max_length=32, required=False)
    line1 = forms.CharField(label="Address", max_length=255, required=False)
    postcode = forms.CharField(max_length=16, required=False)
    city = forms.CharField(max_length=128, required=False)
    country = forms.CharField(max_length=2, required=False, initial="FR", help_text="e.g. FR")
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, stores: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["pickup_store"])
        field.choices = [("", "—"), *stores]

    def clean_sku(self) -> Product:
        key = code_lookup_form(self.cleaned_data["sku"])
        product = Product.objects.filter(sku__iexact=key, active=True).first() if key else None
        if product is None:
            raise forms.ValidationError("No product with this SKU.")
        return product

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not token.isalnum():
            raise forms.ValidationError("Reload the page and try again.")
        return token

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("delivery") == COLLECT:
            if not data.get("pickup_store"):
                self.add_error("pickup_store", "Choose the store the customer collects at.")
        elif data.get("delivery") == HOME:
            for name in ("line1", "postcode", "city", "country"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, "Needed to ship to the customer's home.")
        return data


def _stores_by_distance(origin: Location) -> list[tuple[str, str]]:
    stores = Location.objects.filter(
        active=True, kind=Location.Kind.STORE, click_and_collect=True
    ).only("code", "name", "lat", "lon")
    ranked = sorted(
        stores, key=lambda s: (distance_km(origin.lat, origin.lon, s.lat, s.lon), s.code)
    )
    return [
        (s.code, f"{s.name} ({distance_km(origin.lat, origin.lon, s.lat, s.lon):.0f} km)")
        for s in ranked
    ]


@require_http_methods(["GET", "POST"])
@staff_member_required
def aisle_order(request: HttpRequest) -> HttpResponse:
    """Place an order for the customer in the store: home delivery or collect elsewhere."""
    location, _ = floor_location(request)
    if not request.user.has_perm(ORDER_PERMISSION):
        raise PermissionDenied
    stores = _stores_by_distance(location)
    status = 200
    placed: Order | None = None
    if request.method == "POST":
        form = AisleOrderForm(request.POST, stores=stores)
        if form.is_valid():
            try:
                placed = _place(form.cleaned_data, location, request)
            except DomainError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
        if placed is None:
            status = 400
    else:
        form = AisleOrderForm(
            stores=stores,
            initial={
                "sku": request.GET.get("sku", ""),
                "delivery": COLLECT if request.GET.get("pickup") else HOME,
                "pickup_store": request.GET.get("pickup", ""),
                "token": uuid.uuid4().hex,
            },
        )
    context = console_context(
        request,
        title="Order for a customer in the store",
        location=location,
        form=form,
        placed=placed,
        tracking=tracking_url(placed, request) if placed else "",
        allocations=_sources(placed) if placed else [],
    )
    return render(request, "console/floor/aisle_order.html", context, status=status)


def _place(data: dict, location: Location, request: HttpRequest) -> Order:
    channel = Channel.objects.filter(code=STORE_CHANNEL).first()
    if channel is None:
        raise DomainError("The store channel does not exist.", field="channel")
    product: Product = data["sku"]
    pickup = None
    address: dict = {}
    if data["delivery"] == COLLECT:
        pickup = Location.objects.filter(code=data["pickup_store"]).first()
        if pickup is None:
            raise DomainError("No such store.", field="pickup_store")
        method = Order.DeliveryMethod.CLICK_AND_COLLECT
    else:
        method = Order.DeliveryMethod.STANDARD
        address = {
            "line1": data["line1"].strip(),
            "postcode": data["postcode"].strip(),
            "city": data["city"].strip(),
            "country": data["country"],
        }
    order, _ = order_place(
        data=OrderInput(
            channel=channel,
            # One token per form: a second press of the button answers the same order.
            external_id=f"{location.code}-{data['token']}"[:128],
            lines=[
                LineInput(
                    product=product,
                    quantity=data["quantity"],
                    unit_price=product.price or Decimal(0),
                )
            ],
            email=data["email"].strip().lower(),
            name=data["name"].strip(),
            phone=data["phone"].strip(),
            address=address,
            delivery_method=method,
            pickup_location=pickup,
        ),
        actor=person(request),
    )
    return order


def _sources(order: Order) -> list[tuple[str, int]]:
    return [
        (f.location.name, sum(a.quantity for a in f.allocations.all()))
        for f in order.fulfilments.select_related("location").prefetch_related("allocations")
    ]
