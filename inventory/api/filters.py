"""Query filters of the inventory lists, by natural key."""

import django_filters

from core.api.filters import NaturalKeyFilter
from inventory.models import Location, Product, StockLevel


class ProductFilter(django_filters.FilterSet):
    sku = NaturalKeyFilter(field_name="sku", help_text="Exact SKU.")
    name = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the name."
    )
    active = django_filters.BooleanFilter(field_name="active")

    class Meta:
        model = Product
        fields = ["sku", "name", "active"]


class LocationFilter(django_filters.FilterSet):
    code = NaturalKeyFilter(field_name="code", help_text="Exact code.")
    kind = django_filters.ChoiceFilter(field_name="kind", choices=Location.Kind.choices)
    active = django_filters.BooleanFilter(field_name="active")
    ships = django_filters.BooleanFilter(field_name="ships")
    click_and_collect = django_filters.BooleanFilter(field_name="click_and_collect")
    country = django_filters.CharFilter(field_name="country")

    class Meta:
        model = Location
        fields = ["code", "kind", "active", "ships", "click_and_collect", "country"]


class StockFilter(django_filters.FilterSet):
    sku = NaturalKeyFilter(field_name="product__sku", help_text="Exact SKU.")
    location = NaturalKeyFilter(field_name="location__code", help_text="Location code.")

    class Meta:
        model = StockLevel
        fields = ["sku", "location"]
