"""Query filters of the returns list, by natural key."""

import django_filters

from core.api.filters import NaturalKeyFilter
from returns.models import Return


class ReturnFilter(django_filters.FilterSet):
    order = django_filters.CharFilter(field_name="order__number", help_text="An order number.")
    status = django_filters.MultipleChoiceFilter(
        field_name="status",
        choices=Return.Status.choices,
        help_text="One status, or several (?status=requested&status=partially_received).",
    )
    location = NaturalKeyFilter(
        field_name="location__code", help_text="The location the return is expected at."
    )

    class Meta:
        model = Return
        fields = ["order", "status", "location"]
