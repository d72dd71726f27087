"""Paginators that never COUNT(*) a big table: an exact count up to a cap, an estimate past it.

With a million orders a full count is most of a changelist's time, and past a hundred pages
nobody pages on; they filter or search. So the count stops at `cap` rows. When the list is
a whole table (no filter), PostgreSQL's own row estimate (pg_class.reltuples, kept by
ANALYZE and autovacuum) tells how big it is.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    cap = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not hasattr(rows, "query"):
            return super().count
        # Ordering does not change a count; without it no index or sort is needed.
        return rows.order_by().values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def estimate(self) -> int | None:
        """Return the table's estimated rows when the list is the whole (big) table."""
        rows = self.object_list
        if not self.capped or not hasattr(rows, "query") or rows.query.where:
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
