"""Find customers and their orders from what a person on the phone can say: part of a name,
of an e-mail or of a phone number, an order number, an external id or a tracking number.

Whole keys (number, external id, e-mail, phone, tracking number) are indexed equality
(orders.admin.order_ids_matching). Parts of a name, e-mail or phone are `LIKE '%part%'`,
which PostgreSQL answers from trigram indexes (migration 0008_order_search_trigram); SQLite
reads the table, which is fine at the size an embedded database holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.scoping import scope_orders
from fulfilment.models import Fulfilment
from orders.inputs import phone_digits
from orders.models import Order

# A trigram index answers only for parts of three characters or more.
MIN_PART = 3
# Fewer digits than this match far too many phone numbers to help.
MIN_PHONE_DIGITS = 4
RESULT_LIMIT = 50
MAX_TERM = 128
PHONE_LIKE = re.compile(r"^\+?[0-9 ().\-/]+$")


@dataclass(frozen=True)
class SearchResult:
    term: str
    orders: list[Order]
    # Whether more orders matched than are shown.
    more: bool
    # Why a term found nothing it could have found with more characters.
    hint: str = ""


def order_search(*, term: str, user, limit: int = RESULT_LIMIT) -> SearchResult:
    """Return the orders `user` may see that `term` finds, newest first, at most `limit`."""
    term = " ".join(term.split())[:MAX_TERM]
    if not term or "\x00" in term:
        return SearchResult(term=term, orders=[], more=False)
    match = _whole_keys(term)
    hint = ""
    if len(term) >= MIN_PART:
        match |= Q(customer_name__icontains=term) | Q(customer_email__icontains=term)
    else:
        hint = f"Type at least {MIN_PART} characters to search by part of a name or e-mail."
    # A national number's leading 0 stands for the country code stored in front of it:
    # "06 12 34" is found in 33612345678.
    digits = phone_digits(term).lstrip("0") if PHONE_LIKE.match(term) else ""
    if len(digits) >= MIN_PHONE_DIGITS:
        match |= Q(customer_phone_digits__contains=digits)
    found: QuerySet[Order] = scope_orders(Order.objects.filter(match), user)
    rows = list(
        found.select_related("channel", "pickup_location").order_by("-created_at", "-id")[
            : limit + 1
        ]
    )
    return SearchResult(term=term, orders=rows[:limit], more=len(rows) > limit, hint=hint)


def _whole_keys(term: str) -> Q:
    match = Q(number=term.upper()) | Q(external_id=term)
    if "@" in term:
        match |= Q(customer_email=term.lower())
    tracked = Fulfilment.objects.filter(tracking_number=term).values("order_id")
    return match | Q(pk__in=tracked)
