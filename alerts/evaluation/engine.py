"""Turn the set of subjects a rule holds true for into alerts, in a handful of statements.

A rule gives one SELECT of rows `(subject, product_id, location_id, order_id, opens,
details)`: every subject the rule holds true for now. `opens` says whether the row may open
a new alert; a row with `opens` false only keeps an existing alert alive (the hysteresis
band of days of cover). The set lands in a temporary table, then:

1. an alert of the same subject resolved on its own within the quiet period is reopened,
   quietly (flapping stock makes one alert, not one per crossing);
2. subjects with no unresolved alert get a new one (ON CONFLICT DO NOTHING: the partial
   unique index is the last word if two evaluations race);
3. unresolved alerts get the current figures in `details`;
4. unresolved alerts in scope whose subject is no longer in the set are resolved.

No statement loops over rows in Python; the work grows with the rule's SELECT.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection

from alerts.evaluation.sql import postgres, when

TABLE = "alerts_alert"
HITS = "alerts_hits"
UNRESOLVED = "status <> 'resolved'"


# The columns of a rule's SELECT, in the order `Hits.rows` holds them too.
HIT_COLUMNS = (
    "alert_subject",
    "alert_product",
    "alert_location",
    "alert_order",
    "alert_opens",
    "alert_details",
)


@dataclass(frozen=True)
class Hits:
    """A rule's answer: a SELECT (or literal rows) of the subjects it holds true for."""

    kind: str
    sql: str = ""
    params: list = field(default_factory=list)
    rows: list[tuple] | None = None  # (subject, product_id, location_id, order_id, opens, details)
    # An SQL condition on `alerts_alert` naming the alerts this evaluation speaks for (None:
    # every alert of the kind). Alerts outside it are neither resolved nor refreshed.
    scope: str | None = None
    scope_params: list = field(default_factory=list)


@dataclass
class Applied:
    opened: list[int] = field(default_factory=list)
    reopened: int = 0
    refreshed: int = 0
    resolved: int = 0

    def add(self, other: Applied) -> None:
        self.opened += other.opened
        self.reopened += other.reopened
        self.refreshed += other.refreshed
        self.resolved += other.resolved


def hits_apply(hits: Hits, *, now: datetime, quiet: timedelta) -> Applied:
    """Bring the alerts of `hits.kind` in line with `hits`. Call inside a transaction."""
    applied = Applied()
    with connection.cursor() as cursor:
        if postgres():
            # One evaluation of a kind at a time: the event task and the sweep may overlap.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, _key(hits.kind)])
        _load(cursor, hits)
        kind = hits.kind
        stamp = when(now)
        cursor.execute(
            f"""UPDATE {TABLE}
                SET status = CASE WHEN acknowledged_at IS NULL THEN 'open'
                                  ELSE 'acknowledged' END,
                    resolved_at = NULL, resolution = '', reopened = reopened + 1,
                    details = h.details
                FROM {HITS} h
                WHERE {TABLE}.kind = %s AND {TABLE}.subject = h.subject AND h.opens
                  AND {TABLE}.status = 'resolved' AND {TABLE}.resolution = 'cleared'
                  AND {TABLE}.resolved_at >= %s
                  AND {TABLE}.id = (SELECT MAX(a.id) FROM {TABLE} a
                                    WHERE a.kind = %s AND a.subject = h.subject)""",
            [kind, when(now - quiet), kind],
        )
        applied.reopened = cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {TABLE} (kind, subject, status, product_id, location_id, order_id,
                                    details, opened_at, reopened, resolution)
                SELECT %s, h.subject, 'open', h.product_id, h.location_id, h.order_id,
                       h.details, %s, 0, ''
                FROM {HITS} h
                WHERE h.opens AND NOT EXISTS (
                    SELECT 1 FROM {TABLE} a
                    WHERE a.kind = %s AND a.subject = h.subject AND a.{UNRESOLVED})
                ON CONFLICT DO NOTHING
                RETURNING id""",
            [kind, stamp, kind],
        )
        applied.opened = [row[0] for row in cursor.fetchall()]
        scope, scope_params = (
            (f" AND ({hits.scope})", hits.scope_params) if hits.scope else ("", [])
        )
        cursor.execute(
            f"""UPDATE {TABLE} SET details = h.details
                FROM {HITS} h
                WHERE {TABLE}.kind = %s AND {TABLE}.subject = h.subject
                  AND {TABLE}.{UNRESOLVED} AND {TABLE}.details IS DISTINCT FROM h.details""",
            [kind],
        )
        applied.refreshed = cursor.rowcount
        cursor.execute(
            f"""UPDATE {TABLE}
                SET status = 'resolved', resolved_at = %s, resolution = 'cleared'
                WHERE {TABLE}.kind = %s AND {TABLE}.{UNRESOLVED}
                  AND NOT EXISTS (SELECT 1 FROM {HITS} h WHERE h.subject = {TABLE}.subject)
                  {scope}""",
            [stamp, kind, *scope_params],
        )
        applied.resolved = cursor.rowcount
        cursor.execute(f"DROP TABLE {HITS}")
    return applied


_LOCK_SPACE = 7_000_007  # this app's advisory locks: (space, kind)


def _key(kind: str) -> int:
    return zlib.crc32(kind.encode()) & 0x7FFFFFFF


def _load(cursor, hits: Hits) -> None:
    details = "jsonb" if postgres() else "text"
    cursor.execute(f"DROP TABLE IF EXISTS {HITS}")
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {HITS} (
                subject varchar(64) NOT NULL, product_id bigint, location_id bigint,
                order_id bigint, opens boolean NOT NULL, details {details} NOT NULL)"""
    )
    columns = "subject, product_id, location_id, order_id, opens, details"
    if hits.rows is not None:
        marks = "%s, %s, %s, %s, %s, CAST(%s AS jsonb)" if postgres() else "%s, %s, %s, %s, %s, %s"
        cursor.executemany(f"INSERT INTO {HITS} ({columns}) VALUES ({marks})", hits.rows)
    else:
        cursor.execute(f"INSERT INTO {HITS} ({columns}) {hits.sql}", hits.params)
    cursor.execute(f"CREATE INDEX {HITS}_subject ON {HITS} (subject)")
    if postgres():
        # Without statistics the planner guesses a small temporary table and may loop.
        # The subject alone: statistics on the details documents would cost more than the joins.
        cursor.execute(f"ANALYZE {HITS} (subject)")
