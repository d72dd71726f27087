"""Replenish stores: which store rows fall under their reorder line, and from where to fill
them, worked out set-based in SQL (PostgreSQL, and SQLite for the embedded mode).

The figures are the days-of-cover rule's (alerts.evaluation.stock), so that the job and the
alert agree on what "short" means:

* a stock row's pace is the units it shipped over the policy's velocity window;
* a store row is under its reorder line when its position (available, plus units in
  transit to it, plus units already requested towards it and held at their source) covers
  fewer days than its lead time plus the margin; it is brought up to its target: cover for
  the lead time, margin and review days;
* a location spares what it has available beyond its own target (a location that ships
  nothing keeps nothing back); a store under its line spares nothing.

Each short row takes from the cheapest lane that can still spare the product: the lanes of
a store are ranked once, in Python (a few hundred locations), by what sourcing would pay to
move a parcel over them (the source's shipment cost and cost per km over the distance), then
its unit cost, then distance. When several stores pick the same source for a product, the
one with the fewest days of cover is served first; a store left short takes the next lane
in the next round. Every statement works on whole sets; the rounds are few, each one
serving whatever the round before could not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection

from alerts.evaluation.sql import available, least
from alerts.evaluation.stock import LEAD_TIME, cover_units, rule_joins
from alerts.models import AlertPolicy
from inventory.availability import available_sql
from inventory.models import Location
from sourcing.instance import haversine_km

# A store left short by one round looks at its next lane in the next; past this many rounds
# what is still short stays unmet (it needs a purchase order, not a transfer).
MAX_ROUNDS = 6
# Rows per INSERT of lanes: 5 values a row, well under both databases' parameter limits.
LANE_BATCH = 4_000
TABLES = (
    "replenish_keep",
    "replenish_need",
    "replenish_lane",
    "replenish_spare",
    "replenish_pick",
    "replenish_grant",
)


@dataclass(frozen=True)
class Lane:
    store_id: int
    source_id: int
    rank: int
    move_cost: Decimal
    unit_cost: Decimal
    km: float


@dataclass
class Outcome:
    short_rows: int = 0
    short_units: int = 0
    granted_units: int = 0
    rounds: int = 0


def lanes_ranked(locations: list[Location]) -> list[Lane]:
    """Return every active location's lane to every active store, ranked per store from the
    cheapest: the parcel's cost (shipment cost + cost per km × km), its unit cost, the
    distance, then the code (a stable answer)."""
    lanes: list[Lane] = []
    for store in locations:
        if store.kind != Location.Kind.STORE:
            continue
        candidates = []
        for source in locations:
            if source.pk == store.pk:
                continue
            km = haversine_km(source.lat, source.lon, store.lat, store.lon)
            move = source.shipment_cost + source.cost_per_km * Decimal(str(round(km, 3)))
            candidates.append((move, source.unit_cost, km, source.code, source))
        candidates.sort(key=lambda c: c[:4])
        for rank, (move, unit, km, _, source) in enumerate(candidates, start=1):
            lanes.append(Lane(store.pk, source.pk, rank, move.quantize(Decimal("0.01")), unit, km))
    return lanes


def _temp(name: str, columns: str) -> str:
    # Dropped at commit on PostgreSQL; SQLite has no such clause, so `tables_drop` runs too.
    suffix = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    return f"CREATE TEMP TABLE {name} ({columns}){suffix}"


def tables_drop(cursor) -> None:
    for name in TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def shortfalls_fill(cursor, *, policy: AlertPolicy, now: datetime) -> Outcome:
    """Fill `replenish_grant (product_id, source_id, store_id, quantity)` and
    `replenish_need` with this moment's shortfalls and where to take them from. Runs in the
    caller's transaction, which must drop the tables (`tables_drop`) before reusing them."""
    window = policy.velocity_window_days
    margin = policy.cover_margin_days
    horizon = margin + policy.review_days
    since = now - timedelta(days=window)
    postgres = connection.vendor == "postgresql"
    tables_drop(cursor)
    if postgres:
        # The grouped joins below hash a few hundred thousand rows: in memory, not spilled to
        # disk in batches (4 MB, the default, is sized for many small queries at once).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # A dozen statements here cost more than PostgreSQL's threshold for compiling their
        # expressions to machine code; each runs once, so the compiling is pure overhead
        # (tenths of a second apiece on a busy machine).
        cursor.execute("SET LOCAL jit = off")
        # The working tables' grouped rows are misjudged by the planner (it cannot estimate
        # a GROUP BY over a join), and it then sorts the choice of source's million pairs for
        # a merge join, on disk, rather than look each pair's lane up in a hash.
        cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(
        _temp(
            "replenish_keep",
            "stock_id BIGINT, product_id BIGINT, location_id BIGINT,"
            " units INTEGER, lead INTEGER, target INTEGER, available INTEGER,"
            " in_transit INTEGER",
        )
    )
    cursor.execute(
        _temp(
            "replenish_need",
            "product_id BIGINT, location_id BIGINT, units INTEGER, position INTEGER,"
            " target INTEGER, short INTEGER, PRIMARY KEY (product_id, location_id)",
        )
    )
    cursor.execute(
        _temp(
            "replenish_lane",
            "store_id BIGINT, rank INTEGER, source_id BIGINT, move_cost NUMERIC(14, 2),"
            " unit_cost NUMERIC(14, 2), km DOUBLE PRECISION, PRIMARY KEY (store_id, rank)",
        )
    )
    cursor.execute(
        _temp(
            "replenish_spare",
            "product_id BIGINT, location_id BIGINT, spare INTEGER,"
            " PRIMARY KEY (product_id, location_id)",
        )
    )
    cursor.execute(
        _temp(
            "replenish_pick",
            "product_id BIGINT, store_id BIGINT, source_id BIGINT, short INTEGER,"
            " urgency DOUBLE PRECISION, spare INTEGER, position INTEGER, target INTEGER",
        )
    )
    cursor.execute(
        _temp(
            "replenish_grant",
            "round INTEGER, product_id BIGINT, source_id BIGINT, store_id BIGINT,"
            " quantity INTEGER, position INTEGER, target INTEGER",
        )
    )

    # The stock rows of active locations that sell or hold something: their balances, and for
    # the selling ones their pace and the target of the days-of-cover rule (what they keep for
    # their own sales). Finding the short rows and what every location can spare then reads
    # this table, not the stock rows again.
    #
    # Most of the 2,000,000 rows of a large network neither sell nor hold anything. The rows
    # that hold something are found by a scan whose test reads the row alone; the selling
    # rows come from the window's shipments (the ledger's partial index on shipments), and
    # only those that hold nothing are read again, by primary key. Joining every stock row to
    # the shipments before the test cost a hash probe per row, most of the statement. The
    # rules (`rule_joins`) are joined to the selling rows only: the rest has no target.
    target = cover_units("s.units", f"{LEAD_TIME} + {horizon}", window)
    # PostgreSQL: a row at a time by primary key (the planner, misjudging how few rows are
    # left, would otherwise hash them against a second scan of the whole table).
    by_pk = (
        "CROSS JOIN LATERAL (SELECT * FROM inventory_stocklevel WHERE id = x.stock_id OFFSET 0) s"
        if postgres
        else "JOIN inventory_stocklevel s ON s.id = x.stock_id"
    )
    materialized = "MATERIALIZED " if postgres else ""
    cursor.execute(
        f"""
        INSERT INTO replenish_keep
            (stock_id, product_id, location_id, units, lead, target, available, in_transit)
        WITH x AS {materialized}(
            SELECT m.stock_id, -SUM(m.quantity) AS units
            FROM inventory_stockmovement m
            WHERE m.kind = 'shipment' AND m.created_at >= %s
            GROUP BY m.stock_id
            HAVING -SUM(m.quantity) > 0
        ), h AS {materialized}(
            SELECT s.id, s.product_id, s.location_id, {available()} AS available, s.in_transit
            FROM inventory_stocklevel s
            JOIN inventory_location l ON l.id = s.location_id AND l.active = %s
            WHERE {available_sql()} > 0
        ), j AS {materialized}(
            SELECT h.id, h.product_id, h.location_id, x.units, h.available, h.in_transit
            FROM h LEFT JOIN x ON x.stock_id = h.id
            UNION ALL
            SELECT x.stock_id, s.product_id, s.location_id, x.units, {available()},
                   s.in_transit
            FROM x {by_pk}
            JOIN inventory_location l ON l.id = s.location_id AND l.active = %s
            WHERE NOT EXISTS (SELECT 1 FROM h WHERE h.id = x.stock_id)
        )
        SELECT j.id, j.product_id, j.location_id, NULL, NULL, NULL, j.available, j.in_transit
        FROM j
        WHERE j.units IS NULL
        UNION ALL
        SELECT s.id, s.product_id, s.location_id, s.units, {LEAD_TIME}, {target},
               s.available, s.in_transit
        FROM j s {rule_joins()}
        WHERE s.units IS NOT NULL""",
        [_when(since), True, True, policy.lead_time_days, policy.lead_time_days],
    )
    # The store rows under their reorder line, their position counting what is already on its
    # way: in transit, or requested and held at the source (not yet shipped).
    cursor.execute(
        f"""
        INSERT INTO replenish_need (product_id, location_id, units, position, target, short)
        SELECT x.product_id, x.location_id, x.units, x.position, x.target,
               x.target - x.position
        FROM (
            SELECT k.product_id, k.location_id, k.units, k.lead, k.target,
                   k.available + k.in_transit + COALESCE(r.units, 0) AS position
            FROM replenish_keep k
            JOIN inventory_location l ON l.id = k.location_id AND l.kind = %s AND l.active = %s
                                     AND k.units IS NOT NULL
            JOIN inventory_product p ON p.id = k.product_id AND p.active = %s
            LEFT JOIN (
                SELECT t.destination_id, tl.product_id, SUM(tl.quantity) AS units
                FROM supply_transfer t JOIN supply_transferline tl ON tl.transfer_id = t.id
                WHERE t.status = %s
                GROUP BY t.destination_id, tl.product_id
            ) r ON r.destination_id = k.location_id AND r.product_id = k.product_id
        ) x
        WHERE x.position * {window} < x.units * (x.lead + {margin}) AND x.target > x.position""",
        [Location.Kind.STORE, True, True, "requested"],
    )
    outcome = Outcome()
    cursor.execute("SELECT COUNT(*), COALESCE(SUM(short), 0) FROM replenish_need")
    outcome.short_rows, outcome.short_units = cursor.fetchone()
    if not outcome.short_rows:
        return outcome

    locations = list(
        Location.objects.filter(active=True).only(
            "code", "kind", "lat", "lon", "shipment_cost", "cost_per_km", "unit_cost"
        )
    )
    lanes = lanes_ranked(locations)
    columns = "store_id, rank, source_id, move_cost, unit_cost, km"
    if postgres:
        # COPY: tens of thousands of lanes in one round trip, no statement to parse.
        with cursor.cursor.copy(f"COPY replenish_lane ({columns}) FROM STDIN") as copy:
            for lane in lanes:
                copy.write_row(
                    (
                        lane.store_id,
                        lane.rank,
                        lane.source_id,
                        lane.move_cost,
                        lane.unit_cost,
                        lane.km,
                    )
                )
    else:
        for start in range(0, len(lanes), LANE_BATCH):
            batch = lanes[start : start + LANE_BATCH]
            cursor.execute(
                f"INSERT INTO replenish_lane ({columns}) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch)),
                [
                    value
                    for lane in batch
                    for value in (
                        lane.store_id,
                        lane.rank,
                        lane.source_id,
                        lane.move_cost,
                        lane.unit_cost,
                        lane.km,
                    )
                ],
            )
    if postgres:
        # Temporary tables are never analysed by autovacuum: the planner needs their sizes.
        for name in ("replenish_keep", "replenish_need", "replenish_lane"):
            cursor.execute(f"ANALYZE {name}")

    # What each location can spare of the products some store lacks: available beyond its
    # own target. What the rounds grant is taken off it.
    cursor.execute(
        """
        INSERT INTO replenish_spare (product_id, location_id, spare)
        SELECT k.product_id, k.location_id, k.available - COALESCE(k.target, 0)
        FROM replenish_keep k
        WHERE k.product_id IN (SELECT product_id FROM replenish_need)
          AND k.available - COALESCE(k.target, 0) > 0"""
    )
    if postgres:
        cursor.execute("ANALYZE replenish_spare")
    for round_number in range(1, MAX_ROUNDS + 1):
        cursor.execute("DELETE FROM replenish_pick")
        # Each short row's cheapest lane whose source still spares the product: the lowest
        # rank among the product's spare rows, then that lane. The (short row, spare row)
        # pairs of a product are made first, then each looks its lane up in a hash and the
        # lowest rank per short row is kept, grouped in a hash: no sort of the pairs (about
        # a million in the first round on the bench network), which the planner otherwise
        # chooses and spills to disk.
        cursor.execute(
            f"""
            WITH pairs AS {"MATERIALIZED " if postgres else ""}(
                SELECT n.product_id, n.location_id AS store_id, sp.location_id AS source_id
                FROM replenish_need n
                JOIN replenish_spare sp ON sp.product_id = n.product_id AND sp.spare > 0
                WHERE n.short > 0
            )
            INSERT INTO replenish_pick
                (product_id, store_id, source_id, short, urgency, spare, position, target)
            SELECT b.product_id, b.store_id, l.source_id, n.short,
                   CAST(n.position AS DOUBLE PRECISION) / n.units, sp.spare, n.position,
                   n.target
            FROM (
                SELECT p.product_id, p.store_id, MIN(l.rank) AS rank
                FROM pairs p
                JOIN replenish_lane l ON l.store_id = p.store_id AND l.source_id = p.source_id
                GROUP BY p.product_id, p.store_id
            ) b
            JOIN replenish_need n ON n.product_id = b.product_id AND n.location_id = b.store_id
            JOIN replenish_lane l ON l.store_id = b.store_id AND l.rank = b.rank
            JOIN replenish_spare sp ON sp.product_id = b.product_id
                                   AND sp.location_id = l.source_id"""
        )
        if not cursor.rowcount:
            break
        # Stores that picked the same source for a product share its spare, the fewest days
        # of cover first: each takes what is left after those before it.
        cursor.execute(
            f"""
            INSERT INTO replenish_grant
                (round, product_id, source_id, store_id, quantity, position, target)
            SELECT %s, y.product_id, y.source_id, y.store_id, y.quantity, y.position, y.target
            FROM (
                SELECT x.product_id, x.source_id, x.store_id, x.position, x.target,
                       {least("x.short", "x.spare - (x.served - x.short)")} AS quantity
                FROM (
                    SELECT c.product_id, c.source_id, c.store_id, c.short, c.spare,
                           c.position, c.target,
                           SUM(c.short) OVER (
                               PARTITION BY c.product_id, c.source_id
                               ORDER BY c.urgency, c.store_id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS served
                    FROM replenish_pick c
                ) x
            ) y
            WHERE y.quantity > 0""",
            [round_number],
        )
        outcome.rounds = round_number
        if not cursor.rowcount:
            break
        if postgres and round_number == 1:
            # The two updates below join the round's grants, tens of thousands of rows in the
            # first round: with no statistics the planner expects a few hundred and probes an
            # index per row.
            cursor.execute("ANALYZE replenish_grant")
        cursor.execute(
            """
            UPDATE replenish_need SET short = replenish_need.short - g.quantity
            FROM (SELECT product_id, store_id, SUM(quantity) AS quantity
                  FROM replenish_grant WHERE round = %s
                  GROUP BY product_id, store_id) g
            WHERE g.product_id = replenish_need.product_id
              AND g.store_id = replenish_need.location_id""",
            [round_number],
        )
        cursor.execute(
            """
            UPDATE replenish_spare SET spare = replenish_spare.spare - g.quantity
            FROM (SELECT product_id, source_id, SUM(quantity) AS quantity
                  FROM replenish_grant WHERE round = %s
                  GROUP BY product_id, source_id) g
            WHERE g.product_id = replenish_spare.product_id
              AND g.source_id = replenish_spare.location_id""",
            [round_number],
        )
        # The next round reads only what is still short and what can still be spared.
        cursor.execute("DELETE FROM replenish_need WHERE short <= 0")
        cursor.execute("DELETE FROM replenish_spare WHERE spare <= 0")
        if postgres and round_number == 1:
            # The first round serves most short rows: the planner must see the tables shrink.
            # Later rounds shrink them less; figures that overstate their size still lead to
            # hash joins, and each ANALYZE samples the tables again (tens of ms apiece).
            cursor.execute("ANALYZE replenish_need")
            cursor.execute("ANALYZE replenish_spare")
    cursor.execute("SELECT COALESCE(SUM(quantity), 0) FROM replenish_grant")
    outcome.granted_units = cursor.fetchone()[0]
    return outcome


def _when(value: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)
