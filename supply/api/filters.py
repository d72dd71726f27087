"""Query filters of the transfer and purchase order lists."""

import django_filters

from core.api.filters import NaturalKeyFilter
from supply.models import PurchaseOrder, Transfer


class TransferFilter(django_filters.FilterSet):
    vars()["from"] = NaturalKeyFilter(field_name="source__code", help_text="Location it leaves.")
    to = NaturalKeyFilter(field_name="destination__code", help_text="Location it goes to.")
    status = django_filters.MultipleChoiceFilter(
        field_name="status",
        choices=Transfer.Status.choices,
        help_text="One status, or several (?status=requested&status=shipped).",
    )

    class Meta:
        model = Transfer
        fields = ["status"]


class PurchaseOrderFilter(django_filters.FilterSet):
    location = NaturalKeyFilter(field_name="location__code", help_text="Location code.")
    status = django_filters.MultipleChoiceFilter(
        field_name="status", choices=PurchaseOrder.Status.choices
    )
    supplier = django_filters.CharFilter(field_name="supplier")
    expected_before = django_filters.DateFilter(field_name="expected_on", lookup_expr="lte")

    class Meta:
        model = PurchaseOrder
        fields = ["status"]
