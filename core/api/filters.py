"""Query filters the API lists share."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from core.text import code_lookup_form


# django-filter ships no types.
class NaturalKeyFilter(django_filters.CharFilter):  # type: ignore[misc]
    """`?sku=` or `?location=`: the value in its normal form (core.text), as keys are stored;
    a value no key can have (an invisible character) matches nothing."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in ([], (), {}, "", None):
            return qs
        key = code_lookup_form(value)
        if key is None:
            return qs.none()
        filtered: QuerySet[Any] = super().filter(qs, key)
        return filtered
