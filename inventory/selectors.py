"""Reads that span tables: what can be sold, where.

Availability of one stock row is the rule of inventory.availability. The functions
here answer for many SKUs in one query, so the availability endpoint and sourcing cost
the same few queries whatever the size of the basket.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from django.apps import apps
from django.db import connection
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from inventory.availability import available_sql, buffer_apply, reserved_expired
from inventory.models import Location, Product, StockLevel, StockMovement

# Reservations and channels are models of orders, above inventory: their tables are read
# here by model name (apps.get_model), never by import, and a channel is typed as a model.
SalesChannel = Model  # orders.Channel

_STOCK = StockLevel._meta.db_table
_LOCATION = Location._meta.db_table
_PRODUCT = Product._meta.db_table
_MOVEMENT = StockMovement._meta.db_table

Place = tuple[int, int]  # (product_id, location_id)


def rows_reserved_settle(rows: Iterable[StockLevel]) -> None:
    """Set `reserved_expired` on stock rows read without it, so that `row.available` leaves
    expired reservations out. One query, and none when no row holds a reservation."""
    rows = [row for row in rows if row.reserved]
    if rows:
        expired = reserved_expired([row.pk for row in rows])
        for row in rows:
            row.reserved_expired = expired.get(row.pk, 0)


def stock_rows(*, sku: str | None = None, location: str | None = None) -> QuerySet[StockLevel]:
    """Return stock rows with their product, location and availability, optionally for one
    SKU or location."""
    rows = StockLevel.objects.select_related("product", "location").with_available()
    if sku is not None:
        rows = rows.filter(product__sku=sku)
    if location is not None:
        rows = rows.filter(location__code=location)
    return rows


def recent_movements(stock_ids: list[int], limit: int) -> QuerySet[StockMovement]:
    """Return the newest `limit` movements of these stock rows, newest first, with their
    location and actor.

    On PostgreSQL each row's newest `limit` are read backwards through `movement_stock_time`
    (stock, created_at) and the newest of those kept: at most rows x `limit` movements are
    read, however old the ledger. A plain ORDER BY ... LIMIT over the rows reads every
    movement they ever had and sorts them all: 10,000 rows scattered over the table for a
    product at 50 locations in a 50M-row ledger (docs/performance.md). SQLite has no
    LATERAL, and its ledgers are small: it keeps the plain query.
    """
    movements = StockMovement.objects.select_related("stock__location", "actor").order_by(
        "-created_at", "-id"
    )
    if connection.vendor != "postgresql":
        return movements.filter(stock_id__in=stock_ids)[:limit]
    newest = RawSQL(
        f"""SELECT m.id FROM unnest(%s::bigint[]) AS s(id)
            CROSS JOIN LATERAL (
                SELECT id, created_at FROM {_MOVEMENT}
                WHERE stock_id = s.id ORDER BY created_at DESC, id DESC LIMIT %s
            ) m
            ORDER BY m.created_at DESC, m.id DESC LIMIT %s""",
        [list(stock_ids), limit, limit],
    )
    return movements.filter(pk__in=newest)


def channel_location_q(channel: SalesChannel, *, prefix: str = "") -> Q:
    """Return a filter on locations that may serve the channel, with no query of its own.

    A channel that names locations is served by those; one that names none is
    served by every location (docs/api.md). Activity is filtered separately.
    """
    Channel = apps.get_model("orders", "Channel")

    through = Channel.locations.through
    own = through.objects.filter(channel_id=channel.pk)
    return Q(Exists(own.filter(location_id=OuterRef(f"{prefix}pk")))) | ~Q(Exists(own))


def channel_serves_sql(channel: SalesChannel, location_column: str) -> tuple[str, list]:
    """Return an SQL condition on `location_column` that is `channel_location_q` in SQL,
    and its parameters."""
    through = _channel_locations_table()
    return (
        f"({location_column} IN (SELECT cl.location_id FROM {through} cl"
        f" WHERE cl.channel_id = %s) OR NOT EXISTS (SELECT 1 FROM {through} cl"
        f" WHERE cl.channel_id = %s))",
        [channel.pk, channel.pk],
    )


@cache
def _channel_locations_table() -> str:
    Channel = apps.get_model("orders", "Channel")

    return Channel.locations.through._meta.db_table


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def available_by_location(
    *,
    skus: Iterable[str] | None = None,
    product_ids: Iterable[int] | None = None,
    channel: SalesChannel | None = None,
    locations: Iterable[Location | int] | None = None,
) -> dict[str, dict[str, int]]:
    """Return the sellable units of each SKU at each location: `{sku: {code: units}}`.

    One query. Only active locations count, and only those that serve `channel`
    when one is given (a channel naming no locations is served by all), narrowed
    further to `locations` when given. A location with nothing to sell is left
    out; a SKU with nothing to sell anywhere (or unknown) is left out, so callers
    default to 0.

    The channel buffer (`Channel.buffer_percent`, `Channel.buffer_units`) is held
    back as follows:

    * the percentage per location: each location keeps back
      `floor(available * buffer_percent / 100)` of its own units;
    * the units once per SKU, from the network total: `buffer_units` are taken
      from the locations with the fewest sellable units first (ties by code), the
      thin shelves where the last units are likeliest to be gone already.

    So `sum(locations) == total` always, a SKU sells at most
    `total - buffer_units` across the network, and nothing goes below 0.
    """
    if skus is None and product_ids is None:
        raise TypeError("Give skus or product_ids.")
    # Plain SQL: the ORM took twenty times longer to build this query (its Exists
    # subqueries and annotation) than PostgreSQL takes to run it.
    where, params = [f"l.active AND {available_sql('s')} > 0"], []
    for column, values in (
        ("p.sku", skus),
        ("s.product_id", product_ids),
        (
            "s.location_id",
            None
            if locations is None
            else (loc.pk if isinstance(loc, Location) else loc for loc in locations),
        ),
    ):
        if values is not None:
            values = set(values)
            if not values:
                return {}
            where.append(f"{column} IN ({_marks(len(values))})")
            params += values
    if channel is not None:
        serves, serves_params = channel_serves_sql(channel, "l.id")
        where.append(serves)
        params += serves_params
    found: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT p.sku, l.code, {available_sql("s")}
                FROM {_STOCK} s
                JOIN {_LOCATION} l ON l.id = s.location_id
                JOIN {_PRODUCT} p ON p.id = s.product_id
                WHERE {" AND ".join(where)}""",
            params,
        )
        for sku, code, units in cursor.fetchall():
            found.setdefault(sku, {})[code] = units
    if channel is not None:
        found = {
            sku: held
            for sku, by_code in found.items()
            if (
                held := buffer_apply(
                    by_code, percent=channel.buffer_percent, units=channel.buffer_units
                )
            )
        }
    return {sku: dict(sorted(by_code.items())) for sku, by_code in found.items()}


# Supply on its way, by date: `reader(skus, channel)` answers `{sku: [{"location", "date",
# "quantity"}, ...]}`. Purchase orders belong to an app above inventory, which registers
# its reader from its `AppConfig.ready`.
IncomingReader = Callable[[list[str], "SalesChannel | None"], dict[str, list[dict]]]
_incoming_reader: IncomingReader | None = None


def incoming_reader_register(reader: IncomingReader) -> None:
    global _incoming_reader
    _incoming_reader = reader


def availability_for_skus(
    *, skus: Iterable[str], channel: SalesChannel | None = None
) -> dict[str, dict]:
    """Return `{sku: {"available": n, "locations": {code: n}, "incoming": [...]}}` for every
    SKU asked.

    A SKU that is unknown or has nothing to sell answers 0 with no locations:
    the question is "how many can I sell", and the answer is none. `incoming` lists the
    units still to be delivered, by location and date (none when no app keeps any).
    """
    skus = list(dict.fromkeys(skus))
    by_sku = available_by_location(skus=skus, channel=channel)
    incoming = _incoming_reader(skus, channel) if _incoming_reader is not None else {}
    answer = {}
    for sku in skus:
        by_code = by_sku.get(sku, {})
        answer[sku] = {
            "available": sum(by_code.values()),
            "locations": by_code,
            "incoming": incoming.get(sku, []),
        }
    return answer


class Site(NamedTuple):
    """A location as sourcing weighs it: where it is and what shipping from it costs."""

    pk: int
    code: str
    lat: float
    lon: float
    priority: int
    shipment_cost: float
    cost_per_km: float
    unit_cost: float


_SITE_COLUMNS = (
    "l.id, l.code, l.lat, l.lon, l.priority, l.shipment_cost, l.cost_per_km, l.unit_cost"
)


def _site(row) -> Site:
    pk, code, lat, lon, priority, shipment_cost, cost_per_km, unit_cost = row
    return Site(
        pk,
        code,
        lat,
        lon,
        priority,
        float(shipment_cost),
        float(cost_per_km),
        float(unit_cost),
    )


@dataclass(frozen=True)
class Candidates:
    """The locations that may serve an order: active ones that serve its channel (all, for a
    channel naming none) and ship parcels, or only `location_id` (the pickup store) when one
    is given (with the shipping ones too when `with_shipping`); never those in `exclude`."""

    channel: SalesChannel
    location_id: int | None = None
    exclude: frozenset[int] = frozenset()
    # Click & collect by transfer: the pickup store and the shipping locations.
    with_shipping: bool = False

    def sql(self) -> tuple[str, list]:
        """Return this as an SQL condition on the location `l`, and its parameters."""
        serves, params = channel_serves_sql(self.channel, "l.id")
        if self.location_id is None:
            condition = f"l.active AND l.ships AND {serves}"
        elif self.with_shipping:
            condition = f"l.active AND (l.ships OR l.id = %s) AND {serves}"
            params = [self.location_id, *params]
        else:
            condition = f"l.active AND l.id = %s AND {serves}"
            params = [self.location_id, *params]
        if self.exclude:
            condition += f" AND l.id NOT IN ({_marks(len(self.exclude))})"
            params += sorted(self.exclude)
        return condition, params


def candidate_sites(candidates: Candidates) -> list[Site]:
    """Return every candidate location, whether it holds stock or not, in code order."""
    condition, params = candidates.sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_SITE_COLUMNS} FROM {_LOCATION} l WHERE {condition} ORDER BY l.code",
            params,
        )
        return [_site(row) for row in cursor.fetchall()]


@dataclass
class Sellable:
    """What the candidate locations may sell of some products, the channel buffer held back."""

    sites: dict[str, Site]  # by code: each location with something to sell
    units: dict[int, dict[str, int]]  # {product_id: {code: units}}, codes in order


def sellable_stock(
    *,
    product_ids: Collection[int],
    candidates: Candidates,
    only: Collection[Place] | None = None,
) -> Sellable:
    """Return what the candidate locations may sell of these products, with where they are.

    One query. The buffer of `candidates.channel` is held back as `available_by_location`
    holds it, over the candidate locations: they are the network that serves the order.
    `only` narrows the answer to those stock rows (rows this transaction has locked).
    """
    condition, params = candidates.sql()
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return Sellable({}, {})
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.product_id, {available_sql("s")}, {_SITE_COLUMNS}
                FROM {_STOCK} s JOIN {_LOCATION} l ON l.id = s.location_id
                WHERE s.product_id IN ({_marks(len(product_ids))}) AND {available_sql("s")} > 0
                  AND {condition}""",
            [*product_ids, *params],
        )
        rows = cursor.fetchall()
    sites: dict[str, Site] = {}
    units: dict[int, dict[str, int]] = {}
    for product_id, available, *location in rows:
        if only is not None and (product_id, location[0]) not in only:
            continue
        site = sites.get(location[1])
        if site is None:
            site = sites[location[1]] = _site(location)
        units.setdefault(product_id, {})[site.code] = available
    return Sellable(sites, _buffered(units, candidates.channel))


def _buffered(units: dict[int, dict[str, int]], channel: SalesChannel) -> dict[int, dict[str, int]]:
    """Hold the channel's buffer back from `{product_id: {code: units}}`; codes in order."""
    if channel.buffer_percent or channel.buffer_units:
        units = {
            product_id: held
            for product_id, by_code in units.items()
            if (
                held := buffer_apply(
                    by_code, percent=channel.buffer_percent, units=channel.buffer_units
                )
            )
        }
    return {product_id: dict(sorted(by_code.items())) for product_id, by_code in units.items()}


@dataclass
class QuoteStock:
    """What a channel may sell of a basket, for a delivery quote: at the locations that
    ship parcels (`Candidates(channel=channel)`), and at the click & collect stores."""

    shipping: Sellable
    pickup: dict[int, dict[str, int]]  # {product_id: {store code: units}}, codes in order


def quote_stock(*, product_ids: Collection[int], channel: SalesChannel) -> QuoteStock:
    """Return what the shipping locations and the click & collect stores serving `channel`
    may sell of these products.

    One query for every candidate location × product, driven by the stock rows' unique
    (product, location) index: a quote reads the few rows of its basket, whatever the size
    of the network. The buffer is held back over each network apart, as `sellable_stock`
    and `available_by_location` hold it: the shipping locations serve a parcel, the stores
    a pickup. A store that also ships counts in both.
    """
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return QuoteStock(Sellable({}, {}), {})
    serves, params = channel_serves_sql(channel, "l.id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.product_id, {available_sql("s")}, l.ships, l.click_and_collect,
                       {_SITE_COLUMNS}
                FROM {_STOCK} s JOIN {_LOCATION} l ON l.id = s.location_id
                WHERE s.product_id IN ({_marks(len(product_ids))}) AND {available_sql("s")} > 0
                  AND l.active AND (l.ships OR l.click_and_collect) AND {serves}""",
            [*product_ids, *params],
        )
        rows = cursor.fetchall()
    sites: dict[str, Site] = {}
    shipping: dict[int, dict[str, int]] = {}
    pickup: dict[int, dict[str, int]] = {}
    for product_id, available, ships, collects, *location in rows:
        code = location[1]
        if ships:
            if code not in sites:
                sites[code] = _site(location)
            shipping.setdefault(product_id, {})[code] = available
        if collects:
            pickup.setdefault(product_id, {})[code] = available
    return QuoteStock(Sellable(sites, _buffered(shipping, channel)), _buffered(pickup, channel))
