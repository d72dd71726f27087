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

from django.db.models import Q

from accounts.scoping import scope_orders
from fulfilment.models import Fulfilment
from orders.inputs import phone_digits
from orders.models import Order, external_id_is

# A trigram index answers only for parts of three characters or more.
MIN_PART = 3
# Fewer digits than this match far too many phone numbers to help.
MIN_PHONE_DIGITS = 4
RESULT_LIMIT = 50
# Matches read from the trigram indexes before falling back to the newest-first scan: enough
# that a part shared by a thousand or two orders ("urname042" at a million orders) is sorted
# from its matches, while a common one ("emma") still stops early and walks the date index.
CANDIDATES = 2000
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
    hint = ""
    if len(term) < MIN_PART:
        hint = f"Type at least {MIN_PART} characters to search by part of a name or e-mail."
    # A national number's leading 0 stands for the country code stored in front of it:
    # "06 12 34" is found in 33612345678.
    digits = phone_digits(term).lstrip("0") if PHONE_LIKE.match(term) else ""
    parts = Q(pk__in=[])
    if len(term) >= MIN_PART:
        parts = Q(customer_name__icontains=term) | Q(customer_email__icontains=term)
    if len(digits) >= MIN_PHONE_DIGITS:
        parts |= Q(customer_phone_digits__contains=digits)
    ids = _whole_key_ids(term)
    partial = scope_orders(Order.objects.filter(parts), user)
    # Ask the trigram indexes first, unordered: an ORDER BY created_at LIMIT would let the
    # planner walk the date index backwards, reading the whole table for a rare name.
    found = list(partial.order_by().values_list("pk", flat=True)[: CANDIDATES + 1])
    # A common part ("emma"): the newest matches are near the top of the date index.
    rows_q = Q(pk__in=ids | set(found)) if len(found) <= CANDIDATES else Q(pk__in=ids) | parts
    rows = list(
        scope_orders(Order.objects.filter(rows_q), user)
        .select_related("channel", "pickup_location")
        .order_by("-created_at", "-id")[: limit + 1]
    )
    return SearchResult(term=term, orders=rows[:limit], more=len(rows) > limit, hint=hint)


def _whole_key_ids(term: str) -> set[int]:
    """Return the ids of orders a whole key names: each an indexed equality."""
    ids = set(
        Order.objects.filter(_whole_keys(term))
        .order_by()
        .values_list("pk", flat=True)[:RESULT_LIMIT]
    )
    ids.update(
        Fulfilment.objects.filter(tracking_number=term)
        .order_by()
        .values_list("order_id", flat=True)[:RESULT_LIMIT]
    )
    return ids


def _whole_keys(term: str) -> Q:
    match = Q(number=term.upper()) | external_id_is(term)
    if "@" in term:
        match |= Q(customer_email=term.lower())
    return match
