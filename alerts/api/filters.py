"""Query filters of the alerts list, by natural key."""

import django_filters

from alerts.models import Alert, StockRule
from core.api.filters import NaturalKeyFilter


class AlertFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="kind", choices=Alert.Kind.choices)
    status = django_filters.ChoiceFilter(field_name="status", choices=Alert.Status.choices)
    location = NaturalKeyFilter(field_name="location__code", help_text="Location code.")
    sku = NaturalKeyFilter(field_name="product__sku", help_text="Exact SKU.")

    class Meta:
        model = Alert
        fields = ["kind", "status", "location", "sku"]


class StockRuleFilter(django_filters.FilterSet):
    sku = NaturalKeyFilter(field_name="product__sku", help_text="Exact SKU.")
    location = NaturalKeyFilter(field_name="location__code", help_text="Location code.")

    class Meta:
        model = StockRule
        fields = ["sku", "location"]
