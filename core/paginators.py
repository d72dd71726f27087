"""Paginators that never COUNT(*) a big table: an exact count up to a cap, an estimate past it.

With a million orders a full count is most of a changelist's time, and past a hundred pages
nobody pages on; they filter or search. So the count stops at `cap` rows. When the list is
a whole table (no filter), PostgreSQL's own row estimate (pg_class.reltuples, kept by
ANALYZE and autovacuum) tells how big it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

if TYPE_CHECKING:
    _Paginator = Paginator[Any]
else:  # Django's Paginator is generic in its stubs only
    _Paginator = Paginator


def capped_count(rows: QuerySet[Any], cap: int) -> int:
    """Count at most `cap + 1` rows: enough to say "more than cap" without a full count."""
    # Ordering does not change a count; without it no index or sort is needed.
    return rows.order_by().values("pk")[: cap + 1].count()


class CappedCountPaginator(_Paginator):
    """Count at most `cap` rows; `capped` says when there are more."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return super().count
        return capped_count(rows, self.cap)

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class EstimatedCountPaginator(CappedCountPaginator):
    """A capped count, and past the cap PostgreSQL's estimate of a whole table's rows."""

    @cached_property
    def estimate(self) -> int | None:
        """Return the table's estimated rows when the list is the whole (big) table."""
        rows = self.object_list
        if not self.capped or not isinstance(rows, QuerySet) or rows.query.where:
            return None
        connection = connections[rows.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [rows.model._meta.db_table],
            )
            found = cursor.fetchone()
        return int(found[0]) if found and found[0] > self.cap else None
