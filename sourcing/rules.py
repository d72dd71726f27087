"""Rule strategies: simple, predictable sourcing rules a merchant can reason about.

Each ranks the usable locations and then fills the order line by line, taking
from the best-ranked location that can give something. All of them obey the
same constraints as the optimal plan: stock (shared by lines of one SKU),
`ships`, the line-split rule and the shipment cap.

* ``priority``: lower ``priority`` number first (like Saleor's warehouse sort
  order), then the nearer location, then the location code.
* ``nearest``: the nearer location first, then the location code.
* ``fewest_shipments``: the nearest location that holds the whole order when
  there is one; otherwise repeatedly the location that adds the most units
  (nearer first on ties, then code), so the plan uses few locations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .model import Model
from .solution import Solution, make_solution


class _Fill:
    """Stock left and lines still open while a rule allocates."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.left = [dict(site.location.stock) for site in model.sites]
        self.open = {i: line.quantity for i, line in enumerate(model.instance.lines)}
        self.used: list[int] = []
        self.allocations: list[tuple[int, int, int]] = []

    def can_use(self, site: int) -> bool:
        return site in self.used or len(self.used) < self.model.max_shipments

    def take(self, line: int, site: int, quantity: int) -> None:
        sku = self.model.instance.lines[line].sku
        self.left[site][sku] -= quantity
        self.open[line] -= quantity
        self.allocations.append((line, site, quantity))
        if site not in self.used:
            self.used.append(site)

    def offer(self, line: int, site: int) -> int:
        """Return the units of `line` that `site` can give now under the split rule."""
        if not self.can_use(site):
            return 0
        want = self.open[line]
        have = self.left[site].get(self.model.instance.lines[line].sku, 0)
        if self.model.split:
            return min(want, have)
        return want if have >= want else 0

    def fill_line(self, line: int, ranking: Sequence[int]) -> None:
        for site in ranking:
            if self.open[line] <= 0:
                return
            quantity = self.offer(line, site)
            if quantity > 0:
                self.take(line, site, quantity)

    def solution(self) -> Solution:
        return make_solution(self.model, self.allocations)


def _ranked(model: Model, key: Callable[[int], tuple[float | str, ...]]) -> Solution:
    fill = _Fill(model)
    ranking = sorted(range(len(model.sites)), key=key)
    for line in range(len(model.instance.lines)):
        fill.fill_line(line, ranking)
    return fill.solution()


def priority_plan(model: Model) -> Solution:
    """Return the plan that takes from locations by priority (lower number first)."""
    sites = model.sites
    return _ranked(model, lambda s: (sites[s].location.priority, sites[s].km, sites[s].code))


def nearest_plan(model: Model) -> Solution:
    """Return the plan that takes from the nearest locations first."""
    sites = model.sites
    return _ranked(model, lambda s: (sites[s].km, sites[s].code))


def fewest_shipments_plan(model: Model) -> Solution:
    """Return a plan from one location where possible, else from few, nearest first."""
    sites = model.sites
    nearest = sorted(range(len(sites)), key=lambda s: (sites[s].km, sites[s].code))
    fill = _Fill(model)
    lines = list(range(len(model.instance.lines)))
    while any(fill.open[i] > 0 for i in lines) and len(fill.used) < model.max_shipments:
        best, best_units = None, 0
        for site in nearest:  # nearest first, so a tie keeps the nearer location
            if site not in fill.used:
                units = _units_from(fill, site, lines)
                if units > best_units:
                    best, best_units = site, units
        if best is None:
            break
        for line in lines:
            quantity = fill.offer(line, best)
            if quantity > 0:
                fill.take(line, best, quantity)
    return fill.solution()


def _units_from(fill: _Fill, site: int, lines: Sequence[int]) -> int:
    """Return the units `site` would add if used now, lines taken in order."""
    left = dict(fill.left[site])
    model = fill.model
    units = 0
    for line in lines:
        want = fill.open[line]
        if want <= 0:
            continue
        sku = model.instance.lines[line].sku
        have = left.get(sku, 0)
        give = min(want, have) if model.split else (want if have >= want else 0)
        left[sku] = have - give
        units += give
    return units


RULES: dict[str, Callable[[Model], Solution]] = {
    "priority": priority_plan,
    "nearest": nearest_plan,
    "fewest_shipments": fewest_shipments_plan,
}
