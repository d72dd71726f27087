"""The stock rules as SQL: low stock per stock row, days of cover, and network totals.

Each function returns the `Hits` of one rule, for every stock row or only those a
`StockScope` names (the rows changed since the last evaluation, or the rows a rule edit
touches). Thresholds and lead times come from the most specific `StockRule` that sets them:
product at location, else product, else location, else global.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alerts.evaluation.engine import Hits
from alerts.evaluation.sql import (
    available,
    greatest,
    json_get,
    json_object,
    least,
    ratio,
    text,
)
from alerts.models import Alert, AlertPolicy
from inventory.availability import buffer_kept_sql, buffer_total_sql

STOCK = "inventory_stocklevel"
RULES = "alerts_stockrule"
NETWORK_RULES = "alerts_networkrule"
# A typed NULL: in a UNION, PostgreSQL would take a bare NULL for text.
NO_ID = "CAST(NULL AS BIGINT)"


@dataclass(frozen=True)
class StockScope:
    """Which stock rows to evaluate: an SQL condition on alias `s` (None: every row)."""

    where: str | None = None
    params: list = field(default_factory=list)

    def rows(self) -> tuple[str, list]:
        return (f" AND ({self.where})", list(self.params)) if self.where else ("", [])

    def alerts_at_rows(self) -> tuple[str | None, list]:
        """An alert scope for alerts about one stock row (product at location)."""
        if not self.where:
            return None, []
        return (
            f"EXISTS (SELECT 1 FROM {STOCK} s WHERE s.product_id = alerts_alert.product_id"
            f" AND s.location_id = alerts_alert.location_id AND ({self.where}))",
            list(self.params),
        )

    def alerts_of_products(self) -> tuple[str | None, list]:
        """An alert scope for alerts about a product's network total."""
        if not self.where:
            return None, []
        return (
            f"alerts_alert.product_id IN (SELECT s.product_id FROM {STOCK} s WHERE {self.where})",
            list(self.params),
        )


EVERYTHING = StockScope()


def rule_joins(alias: str = "s") -> str:
    """LEFT JOIN the four rules that may apply to a stock row, most specific first (as
    r1 to r4, which `LEAD_TIME` reads)."""
    return f"""
        LEFT JOIN {RULES} r1 ON r1.scope = 'place' AND r1.product_id = {alias}.product_id
                            AND r1.location_id = {alias}.location_id
        LEFT JOIN {RULES} r2 ON r2.scope = 'product' AND r2.product_id = {alias}.product_id
        LEFT JOIN {RULES} r3 ON r3.scope = 'location' AND r3.location_id = {alias}.location_id
        LEFT JOIN {RULES} r4 ON r4.scope = 'global'"""


# A stock row's replenishment lead time, from the rules `rule_joins` brought: one parameter,
# the policy's lead time where no rule sets one.
LEAD_TIME = (
    "COALESCE(r1.lead_time_days, r2.lead_time_days, r3.lead_time_days, r4.lead_time_days, %s)"
)


def cover_units(shipped: str, days: str, window: int) -> str:
    """Return SQL for the units that cover `days` days at the pace of `shipped` units over
    `window` days, rounded up: the one spelling of a target in units, for the days-of-cover
    rule and for replenishment (supply)."""
    return f"(({shipped}) * ({days}) + {window - 1}) / {window}"


def _active_joins(alias: str = "s") -> str:
    return f"""
        JOIN inventory_product p ON p.id = {alias}.product_id AND p.active = %s
        JOIN inventory_location l ON l.id = {alias}.location_id AND l.active = %s"""


def _place_subject(alias: str = "s") -> str:
    return f"{text(f'{alias}.product_id')} || '@' || {text(f'{alias}.location_id')}"


def low_stock(scope: StockScope = EVERYTHING) -> Hits:
    """Stock rows whose available is at or below their threshold."""
    where, params = scope.rows()
    threshold = "COALESCE(r1.threshold, r2.threshold, r3.threshold, r4.threshold)"
    rule = (
        "CASE WHEN r1.threshold IS NOT NULL THEN 'place' WHEN r2.threshold IS NOT NULL"
        " THEN 'product' WHEN r3.threshold IS NOT NULL THEN 'location' ELSE 'global' END"
    )
    details = json_object(
        available="x.available",
        threshold="x.threshold",
        rule="x.rule",
        on_hand="x.on_hand",
        allocated="x.allocated",
        reserved="x.reserved",
        safety_stock="x.safety_stock",
    )
    sql = f"""
        SELECT x.subject, x.product_id, x.location_id, NULL, TRUE, {details}
        FROM (
            SELECT {_place_subject()} AS subject, s.product_id, s.location_id, s.on_hand,
                   s.allocated, s.reserved, s.safety_stock, {available()} AS available,
                   {threshold} AS threshold, {rule} AS rule
            FROM {STOCK} s {_active_joins()} {rule_joins()}
            -- No row above the highest threshold can be low: skip the rule joins for them.
            WHERE {available()} <= (SELECT MAX(threshold) FROM {RULES})
              AND {threshold} IS NOT NULL {where}
        ) x
        WHERE x.available <= x.threshold"""
    alert_scope, alert_params = scope.alerts_at_rows()
    return Hits(
        kind=Alert.Kind.LOW_STOCK,
        sql=sql,
        params=[True, True, *params],
        scope=alert_scope,
        scope_params=alert_params,
    )


def days_of_cover(policy: AlertPolicy, *, since, scope: StockScope = EVERYTHING) -> Hits:
    """Stock rows whose days of cover fall under their lead time plus the margin.

    Velocity is the units shipped (the ledger's shipment movements) since `since`, over
    the policy's window, aggregated once per stock row; only rows that shipped something
    have a finite cover. A row opens an alert when `available / velocity < lead + margin`
    and keeps it until cover reaches `lead + margin + hysteresis`. Each alert suggests a
    reorder quantity (cover for lead + margin + review days), kept current, and, when it
    opens, a transfer from the location of the network with the most units beyond its own
    such cover. Looking for that source reads every location of the product, so it is done
    only for the alerts about to open; an open alert keeps the suggestion it opened with.
    """
    where, params = scope.rows()
    window = policy.velocity_window_days
    margin = policy.cover_margin_days
    band = policy.cover_hysteresis_days
    horizon = margin + policy.review_days
    lead = LEAD_TIME
    kind = Alert.Kind.DAYS_OF_COVER
    shipped_rows, shipped_params = "", []
    if scope.where:
        # An event names a few rows: read their shipments only (index movement_stock_time).
        shipped_rows = f" AND m.stock_id IN (SELECT s.id FROM {STOCK} s WHERE {scope.where})"
        shipped_params = list(scope.params)
        # The candidate sources' shipments: the rows of the new alerts' few products.
        sources = "source_shipped"
        source_cte = f"""
        ), source_shipped AS (
            SELECT m.stock_id, -SUM(m.quantity) AS units
            FROM inventory_stockmovement m JOIN {STOCK} s ON s.id = m.stock_id
            WHERE m.kind = 'shipment' AND m.created_at >= %s
              AND s.product_id IN (SELECT product_id FROM flagged WHERE fresh AND opens)
            GROUP BY m.stock_id"""
        source_params = [since]
    else:
        # The sweep already aggregated every row's shipments.
        sources, source_cte, source_params = "shipped", "", []
    transfer = least("t.spare", "f.target - f.available")
    details = json_object(
        available="f.available",
        shipped_units="f.shipped",
        window_days=str(window),
        velocity_per_day=ratio("f.shipped", str(window), 2),
        days_of_cover=ratio(f"f.available * {window}", "f.shipped", 1),
        lead_time_days="f.lead",
        margin_days=str(margin),
        reorder_quantity="f.target - f.available",
        transfer_from=(
            f"CASE WHEN f.fresh THEN t.code ELSE {json_get('a.details', 'transfer_from')} END"
        ),
        transfer_quantity=(
            f"CASE WHEN f.fresh THEN (CASE WHEN t.code IS NOT NULL THEN {transfer} END)"
            f" ELSE {json_get('a.details', 'transfer_quantity', integer=True)} END"
        ),
    )
    unresolved = f"a.kind = '{kind}' AND a.subject = {{subject}} AND a.status <> 'resolved'"
    # In integers: cover < lead + margin  <=>  available * window < shipped * (lead + margin).
    sql = f"""
        WITH shipped AS (
            SELECT m.stock_id, -SUM(m.quantity) AS units
            FROM inventory_stockmovement m
            WHERE m.kind = 'shipment' AND m.created_at >= %s {shipped_rows}
            GROUP BY m.stock_id
        ), flagged AS (
            SELECT {_place_subject()} AS subject, s.product_id, s.location_id,
                   {available()} AS available, sh.units AS shipped, {lead} AS lead,
                   {available()} * {window} < sh.units * ({lead} + {margin}) AS opens,
                   {cover_units("sh.units", f"{lead} + {horizon}", window)} AS target,
                   NOT EXISTS (SELECT 1 FROM alerts_alert a
                               WHERE {unresolved.format(subject=_place_subject())}) AS fresh
            FROM {STOCK} s
            JOIN shipped sh ON sh.stock_id = s.id {_active_joins()} {rule_joins()}
            -- No row can be short once available passes what the fastest seller needs for
            -- the longest lead: one cheap pass over the rows, then joins for the few left.
            WHERE {available()} * {window} < (SELECT MAX(units) FROM shipped)
                      * ({greatest(f"COALESCE((SELECT MAX(lead_time_days) FROM {RULES}), 0)", "%s")}
                         + {margin + band})
              AND sh.units > 0
              AND {available()} * {window} < sh.units * ({lead} + {margin + band}) {where}
        {source_cte}
        ), needs AS (
            -- What a location keeps for its own sales: only rows that ship need the rule
            -- joins for their lead time; a row that sells nothing spares all it has.
            SELECT s.id AS stock_id,
                   {cover_units("x.units", f"{lead} + {horizon}", window)} AS need
            FROM {sources} x JOIN {STOCK} s ON s.id = x.stock_id {rule_joins()}
            WHERE x.units > 0
              AND s.product_id IN (SELECT product_id FROM flagged WHERE fresh AND opens)
        ), spare AS (
            SELECT s.product_id, s.location_id, l.code,
                   {available()} - COALESCE(n.need, 0) AS spare
            FROM {STOCK} s {_active_joins()}
            LEFT JOIN needs n ON n.stock_id = s.id
            WHERE s.product_id IN (SELECT product_id FROM flagged WHERE fresh AND opens)
        ), best AS (
            SELECT product_id, location_id, code, spare,
                   ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY spare DESC, code) AS rank
            FROM spare WHERE spare > 0
        )
        SELECT f.subject, f.product_id, f.location_id, NULL, f.opens, {details}
        FROM flagged f
        LEFT JOIN best t ON f.fresh AND t.product_id = f.product_id AND t.rank = 1
                        AND t.location_id <> f.location_id
        LEFT JOIN alerts_alert a ON NOT f.fresh AND {unresolved.format(subject="f.subject")}"""
    lead_params = [policy.lead_time_days]
    flagged_params = [
        *lead_params,  # lead
        *lead_params,  # opens
        *lead_params,  # target
        True,
        True,
        *lead_params,  # the longest lead, at least the policy's
        *lead_params,  # band
        *params,
    ]
    spare_params = [*source_params, *lead_params, True, True]  # sources, needs, spare
    alert_scope, alert_params = scope.alerts_at_rows()
    return Hits(
        kind=kind,
        sql=sql,
        params=[since, *shipped_params, *flagged_params, *spare_params],
        scope=alert_scope,
        scope_params=alert_params,
    )


def network_low_stock(scope: StockScope = EVERYTHING) -> Hits:
    """Products whose available across the network, or in a channel, is at or under the
    network rule that applies (the channel buffer held back as sales hold it back)."""
    if scope.where:
        products = f" AND s.product_id IN (SELECT s.product_id FROM {STOCK} s WHERE {scope.where})"
        product_params = list(scope.params)
    else:
        products, product_params = "", []
    whole = json_object(available="t.total", threshold="t.threshold", channel="NULL")
    in_channel = json_object(available="t.total", threshold="t.threshold", channel="t.code")
    # The channel buffer as sales hold it back: the percentage per location, then the
    # units from the network total (inventory.availability).
    kept = buffer_kept_sql(available(), "c.buffer_percent")
    channel_total = buffer_total_sql("n.kept", "n.buffer_units")
    sql = f"""
        SELECT {text("t.product_id")}, t.product_id, {NO_ID}, {NO_ID}, TRUE, {whole}
        FROM (
            SELECT n.product_id, n.total, COALESCE(r1.threshold, r2.threshold) AS threshold
            FROM (
                -- One pass over the stock rows with no join: inactive locations are few
                -- (a hashed list); inactive products are dropped after the GROUP BY.
                SELECT s.product_id, SUM({available()}) AS total
                FROM {STOCK} s
                WHERE s.location_id NOT IN (SELECT l.id FROM inventory_location l
                                            WHERE l.active = %s) {products}
                GROUP BY s.product_id
            ) n
            JOIN inventory_product p ON p.id = n.product_id AND p.active = %s
            LEFT JOIN {NETWORK_RULES} r1 ON r1.scope = 'product' AND r1.product_id = n.product_id
            LEFT JOIN {NETWORK_RULES} r2 ON r2.scope = 'global'
        ) t
        WHERE t.total <= t.threshold
        UNION ALL
        SELECT {text("t.product_id")} || '#' || {text("t.channel_id")}, t.product_id,
               {NO_ID}, {NO_ID}, TRUE, {in_channel}
        FROM (
            SELECT n.product_id, n.channel_id, n.code,
                   {channel_total} AS total,
                   COALESCE(r1.threshold, r2.threshold) AS threshold
            FROM (
                SELECT s.product_id, c.id AS channel_id, c.code, c.buffer_units,
                       SUM({kept}) AS kept
                FROM orders_channel c
                JOIN {STOCK} s ON (
                    s.location_id IN (SELECT cl.location_id FROM orders_channel_locations cl
                                      WHERE cl.channel_id = c.id)
                    OR NOT EXISTS (SELECT 1 FROM orders_channel_locations cl
                                   WHERE cl.channel_id = c.id))
                {_active_joins()}
                WHERE c.active = %s
                  AND c.id IN (SELECT channel_id FROM {NETWORK_RULES} WHERE channel_id IS NOT NULL)
                  {products}
                GROUP BY s.product_id, c.id, c.code, c.buffer_units
            ) n
            LEFT JOIN {NETWORK_RULES} r1 ON r1.scope = 'pair' AND r1.product_id = n.product_id
                                        AND r1.channel_id = n.channel_id
            LEFT JOIN {NETWORK_RULES} r2 ON r2.scope = 'channel' AND r2.channel_id = n.channel_id
        ) t
        WHERE t.total <= t.threshold"""
    alert_scope, alert_params = scope.alerts_of_products()
    return Hits(
        kind=Alert.Kind.NETWORK_LOW_STOCK,
        sql=sql,
        params=[False, *product_params, True, True, True, True, *product_params],
        scope=alert_scope,
        scope_params=alert_params,
    )
