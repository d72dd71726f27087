"""Which returns an API caller reaches (docs/api.md, "Scoped tokens").

A location-scoped token (a store's till, a warehouse, a 3PL) reaches the returns expected at
its locations or received there; a channel-scoped one (a storefront), the returns of its
channels' orders; a token without scope, every return.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.scoping import scope_for
from returns.models import Return, ReturnReceipt


def api_returns(queryset: QuerySet[Return], user) -> QuerySet[Return]:
    scope = scope_for(user)
    if scope.locations is not None:
        received_here = ReturnReceipt.objects.filter(
            return_request_id=OuterRef("pk"), location_id__in=scope.locations
        )
        return queryset.filter(Q(location_id__in=scope.locations) | Exists(received_here))
    if scope.channels is not None:
        return queryset.filter(order__channel_id__in=scope.channels)
    return queryset
