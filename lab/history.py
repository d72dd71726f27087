"""A period of the real history, read once into memory for a replay.

A handful of set-based queries, whatever the number of orders: the network (locations,
channels), the stock rows with `on_hand` as it stood at the period's start (today's figure
less every ledger line written since), the allocations that held stock at the start, the
ledger's non-order movements of the period, and the period's orders with their lines, the
allocations made when each was captured, when each shipped and when each was cancelled.
The replay then reads no more from the database: every instance is built from this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fulfilment.models import Fulfilment
from inventory.models import Allocation, Location, Product, StockLevel, StockMovement
from inventory.selectors import Site
from orders.models import Channel, Order, OrderEvent, OrderLine

# Shipments leave through the replayed orders themselves; every other kind is replayed
# as it happened.
ORDER_MOVEMENTS = (StockMovement.Kind.SHIPMENT,)


@dataclass(frozen=True, slots=True)
class Place:
    """A location as the replay weighs it."""

    pk: int
    code: str
    kind: str
    active: bool
    ships: bool
    click_and_collect: bool
    site: Site


@dataclass(frozen=True, slots=True)
class Row:
    """A stock row at the period's start."""

    pk: int
    product_id: int
    location_id: int
    on_hand: int
    allocated: int
    safety_stock: int


@dataclass(frozen=True, slots=True)
class Movement:
    """A non-order change of `on_hand` in the period: a receipt, a count, a transfer ..."""

    at: datetime
    pk: int
    stock_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Held:
    """An allocation made before the period that still held stock at its start, and when
    (within the period) it stopped: shipped (its units left) or released."""

    stock_id: int
    quantity: int
    ended_at: datetime | None
    shipped: bool


@dataclass(frozen=True, slots=True)
class HistLine:
    line_no: int
    product_id: int
    sku: str
    quantity: int


@dataclass(slots=True)
class HistOrder:
    pk: int
    number: str
    at: datetime
    channel_id: int
    delivery_method: str
    pickup_location_id: int | None
    lat: float | None
    lon: float | None
    promised_date: date | None
    lines: list[HistLine] = field(default_factory=list)
    # What really happened: the units each line got at capture, by location id.
    real: dict[tuple[int, int], int] = field(default_factory=dict)  # (line_no, location) -> units
    shipped_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass
class History:
    start: datetime
    end: datetime
    places: dict[int, Place]
    channels: dict[int, Channel]  # with `location_ids` (a frozenset, empty: every location)
    locations: dict[int, Location]  # for the promise: the pickup store of an order
    rows: list[Row]
    held: list[Held]
    movements: list[Movement]
    orders: list[HistOrder]  # in the order they were captured


def history_load(*, start: datetime, end: datetime) -> History:
    """Read the period [start, end) of the real history."""
    places, locations = _places()
    return History(
        start=start,
        end=end,
        places=places,
        channels=_channels(),
        locations=locations,
        rows=_rows(start),
        held=_held(start, end),
        movements=_movements(start, end),
        orders=_orders(start, end),
    )


def _fetch(sql: str, params: list | tuple = ()) -> list[tuple]:
    # Times go in as the backend keeps them (SQLite: UTC text), and come out aware.
    adapt = connection.ops.adapt_datetimefield_value
    params = [adapt(value) if isinstance(value, datetime) else value for value in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _maybe_at(value) -> datetime | None:
    return None if value is None else _at(value)


def _at(value) -> datetime:
    """Return a time read by plain SQL as an aware datetime (SQLite answers text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _places() -> tuple[dict[int, Place], dict[int, Location]]:
    places, locations = {}, {}
    for location in Location.objects.all():
        site = Site(
            location.pk,
            location.code,
            location.lat,
            location.lon,
            location.priority,
            float(location.shipment_cost),
            float(location.cost_per_km),
            float(location.unit_cost),
        )
        places[location.pk] = Place(
            location.pk,
            location.code,
            location.kind,
            location.active,
            location.ships,
            location.click_and_collect,
            site,
        )
        locations[location.pk] = location
    return places, locations


def _channels() -> dict[int, Channel]:
    channels = {channel.pk: channel for channel in Channel.objects.all()}
    for channel in channels.values():
        channel.location_ids = frozenset()  # type: ignore[attr-defined]
    through = Channel.locations.through
    served: dict[int, set[int]] = {}
    for channel_id, location_id in through.objects.values_list("channel_id", "location_id"):
        served.setdefault(channel_id, set()).add(location_id)
    for channel_id, ids in served.items():
        channels[channel_id].location_ids = frozenset(ids)  # type: ignore[attr-defined]
    return channels


def _rows(start: datetime) -> list[Row]:
    """Every stock row with its `on_hand` at `start` and what allocations held then."""
    stock = StockLevel._meta.db_table
    movement = StockMovement._meta.db_table
    allocation = Allocation._meta.db_table
    found = _fetch(
        f"""SELECT s.id, s.product_id, s.location_id,
                   s.on_hand - COALESCE(m.since, 0), COALESCE(a.held, 0), s.safety_stock
            FROM {stock} s
            LEFT JOIN (SELECT stock_id, SUM(quantity) AS since FROM {movement}
                       WHERE created_at >= %s GROUP BY stock_id) m ON m.stock_id = s.id
            LEFT JOIN (SELECT stock_id, SUM(quantity) AS held FROM {allocation}
                       WHERE created_at < %s AND (status = 'open' OR updated_at >= %s)
                       GROUP BY stock_id) a ON a.stock_id = s.id
            ORDER BY s.id""",
        [start, start, start],
    )
    return [Row(*row) for row in found]


def _held(start: datetime, end: datetime) -> list[Held]:
    """The allocations open at `start` that shipped or were released before `end`."""
    allocation = Allocation._meta.db_table
    found = _fetch(
        f"""SELECT stock_id, quantity, updated_at, status FROM {allocation}
            WHERE created_at < %s AND status <> 'open' AND updated_at >= %s AND updated_at < %s""",
        [start, start, end],
    )
    return [
        Held(stock_id, quantity, _maybe_at(at), status == "shipped")
        for stock_id, quantity, at, status in found
    ]


def _movements(start: datetime, end: datetime) -> list[Movement]:
    movement = StockMovement._meta.db_table
    marks = ", ".join(["%s"] * len(ORDER_MOVEMENTS))
    found = _fetch(
        f"""SELECT created_at, id, stock_id, quantity FROM {movement}
            WHERE created_at >= %s AND created_at < %s AND kind NOT IN ({marks}) AND quantity <> 0
            ORDER BY created_at, id""",
        [start, end, *ORDER_MOVEMENTS],
    )
    return [Movement(_at(at), pk, stock_id, quantity) for at, pk, stock_id, quantity in found]


def _orders(start: datetime, end: datetime) -> list[HistOrder]:
    order_t = Order._meta.db_table
    line_t = OrderLine._meta.db_table
    product_t = Product._meta.db_table
    allocation_t = Allocation._meta.db_table
    stock_t = StockLevel._meta.db_table
    fulfilment_t = Fulfilment._meta.db_table
    event_t = OrderEvent._meta.db_table
    period = "o.created_at >= %s AND o.created_at < %s"
    orders: dict[int, HistOrder] = {}
    for row in _fetch(
        f"""SELECT o.id, o.number, o.created_at, o.channel_id, o.delivery_method,
                   o.pickup_location_id, o.ship_lat, o.ship_lon, o.promised_date
            FROM {order_t} o WHERE {period} ORDER BY o.created_at, o.id""",
        [start, end],
    ):
        pk, number, at, channel_id, method, pickup_id, lat, lon, promised = row
        orders[pk] = HistOrder(
            pk, number, _at(at), channel_id, method, pickup_id, lat, lon, _day(promised)
        )
    if not orders:
        return []
    for order_id, line_no, product_id, sku, quantity in _fetch(
        f"""SELECT l.order_id, l.line_no, l.product_id, p.sku, l.quantity
            FROM {line_t} l JOIN {order_t} o ON o.id = l.order_id
            JOIN {product_t} p ON p.id = l.product_id
            WHERE {period} ORDER BY l.order_id, l.line_no""",
        [start, end],
    ):
        orders[order_id].lines.append(HistLine(line_no, product_id, sku, quantity))
    # Capture writes the order and its allocations with one time: those are the plan that
    # was live. Later allocations (backorders filled, re-sourcing after a rejection) are not.
    for order_id, line_no, location_id, quantity in _fetch(
        f"""SELECT o.id, l.line_no, s.location_id, SUM(a.quantity)
            FROM {allocation_t} a JOIN {line_t} l ON l.id = a.order_line_id
            JOIN {order_t} o ON o.id = l.order_id JOIN {stock_t} s ON s.id = a.stock_id
            WHERE {period} AND a.created_at = o.created_at
            GROUP BY o.id, l.line_no, s.location_id""",
        [start, end],
    ):
        orders[order_id].real[(line_no, location_id)] = int(quantity)
    for order_id, shipped_at in _fetch(
        f"""SELECT o.id, MAX(f.shipped_at) FROM {fulfilment_t} f JOIN {order_t} o
            ON o.id = f.order_id WHERE {period} AND f.shipped_at IS NOT NULL GROUP BY o.id""",
        [start, end],
    ):
        orders[order_id].shipped_at = _maybe_at(shipped_at)
    for order_id, cancelled_at in _fetch(
        f"""SELECT o.id, MIN(e.created_at) FROM {event_t} e JOIN {order_t} o
            ON o.id = e.order_id WHERE {period} AND e.kind = %s GROUP BY o.id""",
        [start, end, OrderEvent.Kind.CANCELLED],
    ):
        orders[order_id].cancelled_at = _maybe_at(cancelled_at)
    return list(orders.values())
