"""The cost model: the order's SKUs, the usable locations and what each costs.

`Model` is what every strategy works on. It keeps only locations that ship and
hold something the order asks for, and precomputes per location its fixed cost
(shipment + distance) and per SKU the units it could usefully give.
"""

from __future__ import annotations

from dataclasses import dataclass

from .instance import Instance, Location, haversine_km

# Costs within this distance are a tie (then fewer shipments, then location codes win).
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Item:
    """One SKU of the order with the lines that ask for it."""

    sku: str
    lines: tuple[int, ...]
    quantities: tuple[int, ...]

    @property
    def demand(self) -> int:
        return sum(self.quantities)


@dataclass(frozen=True, slots=True)
class Site:
    """A usable location seen by the solvers."""

    location: Location
    km: float
    fixed: float  # shipment_cost + cost_per_km * km: paid once when the location is used
    unit_cost: float
    capacity: tuple[int, ...]  # per item: most units this location can give to the order

    @property
    def code(self) -> str:
        return self.location.code


@dataclass(frozen=True, slots=True)
class Model:
    instance: Instance
    items: tuple[Item, ...]
    sites: tuple[Site, ...]
    split: bool
    split_penalty: float
    max_shipments: int  # effective cap: never more than the number of usable sites

    @property
    def demand(self) -> int:
        return sum(item.demand for item in self.items)


def build_model(instance: Instance, *, excluded: frozenset[str] = frozenset()) -> Model:
    """Return the cost model of `instance`, leaving out the location codes in `excluded`."""
    by_sku: dict[str, list[tuple[int, int]]] = {}
    for index, line in enumerate(instance.lines):
        if line.quantity > 0:
            by_sku.setdefault(line.sku, []).append((index, line.quantity))
    items = tuple(
        Item(sku=sku, lines=tuple(i for i, _ in pairs), quantities=tuple(q for _, q in pairs))
        for sku, pairs in by_sku.items()
    )
    split = instance.policy.allow_line_split
    count = len(items)
    position = {item.sku: i for i, item in enumerate(items)}
    demand = [item.demand for item in items]
    sums = [_subset_sums(item.quantities) for item in items]
    lat, lon = instance.destination
    sites = []
    for location in instance.locations:
        stock = location.stock
        if not location.ships or not stock or location.code in excluded:
            continue
        # The stock usually names few of the order's SKUs: walk it, not the order (unless it
        # is the longer of the two: a caller may pass a location's whole stock).
        if len(stock) > count:
            stock = {sku: stock[sku] for sku in position if sku in stock}
        capacity = [0] * count
        useful = False
        for sku, units in stock.items():
            i = position.get(sku)
            if i is None or units <= 0:
                continue
            d = demand[i]
            if units >= d:
                capacity[i] = d
            elif split:
                capacity[i] = units
            else:
                capacity[i] = _whole_lines(units, d, sums[i])
            useful = useful or capacity[i] > 0
        if not useful:
            continue
        km = haversine_km(location.lat, location.lon, lat, lon)
        fixed = location.shipment_cost + location.cost_per_km * km
        sites.append(Site(location, km, fixed, location.unit_cost, tuple(capacity)))
    cap = instance.policy.max_shipments
    return Model(
        instance=instance,
        items=items,
        sites=tuple(sites),
        split=split,
        split_penalty=instance.policy.split_penalty,
        max_shipments=len(sites) if cap is None else min(cap, len(sites)),
    )


def _subset_sums(quantities: tuple[int, ...]) -> int:
    """Return a bitset whose bit n is set when some lines' quantities add up to n."""
    reachable = 1
    for quantity in quantities:
        reachable |= reachable << quantity
    return reachable


def _whole_lines(stock: int, demand: int, sums: int) -> int:
    """Return the most units of whole lines that `stock` can hold: the largest subset sum."""
    if stock >= demand:
        return demand
    if stock <= 0:
        return 0
    return (sums & ((1 << (stock + 1)) - 1)).bit_length() - 1
