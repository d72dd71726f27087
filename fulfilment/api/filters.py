"""Query filters of the fulfilment list: a location's queue, by status."""

import django_filters

from core.api.filters import NaturalKeyFilter
from fulfilment.models import Fulfilment


class FulfilmentFilter(django_filters.FilterSet):
    location = NaturalKeyFilter(field_name="location__code", help_text="Location code.")
    status = django_filters.MultipleChoiceFilter(
        field_name="status",
        choices=Fulfilment.Status.choices,
        help_text="One status, or several (?status=requested&status=accepted).",
    )
    order = django_filters.CharFilter(field_name="order__number", help_text="Order number.")

    class Meta:
        model = Fulfilment
        fields = ["location", "status", "order"]
