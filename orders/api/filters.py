"""Query filters of the order list, by natural key and indexed exact matches."""

import django_filters

from core.api.filters import NaturalKeyFilter
from orders.models import Order, external_id_is


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        field_name="status",
        choices=Order.Status.choices,
        help_text="One status, or several (?status=allocated&status=backordered).",
    )
    channel = NaturalKeyFilter(field_name="channel__code", help_text="A channel code.")
    email = django_filters.CharFilter(
        method="filter_email", help_text="The customer's e-mail address (any case), exactly."
    )
    external_id = django_filters.CharFilter(
        method="filter_external_id", help_text="The order's id in its channel."
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601, e.g. 2025-01-31T00:00Z."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601, exclusive."
    )

    class Meta:
        model = Order
        fields = ["status", "channel", "email", "external_id", "created_after", "created_before"]

    def filter_external_id(self, queryset, name, value):
        return queryset.filter(external_id_is(value))

    def filter_email(self, queryset, name, value):
        # Stored lowercased (order capture), so an exact match uses the index.
        return queryset.filter(customer_email=value.strip().lower())
