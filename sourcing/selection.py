"""The set of locations the search has chosen so far, and the plan it yields.

Once the set of locations is fixed the rest is easy: with line splits each SKU
takes its units from the cheapest chosen locations (unit cost is per location),
without them a tiny exact packing per SKU does it. `Selection` holds the
per-location data in flat lists (the search reads them millions of times) and
the state of the set being built: which locations are chosen, which are still
allowed, and how many units of each SKU the chosen ones cover.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from .model import Model
from .packing import Packing, max_packable, pack_lines
from .reduction import dominated_sites
from .solution import Solution, make_solution

INF = float("inf")


class Timeout(Exception):
    """The time budget ran out; raised deep in the search, caught at the top."""


class Selection:
    """Per-location data as flat lists, and the set of locations the search is building."""

    def __init__(self, model: Model, deadline: float | None) -> None:
        self.model = model
        self.deadline = deadline
        sites = model.sites
        n = self.n = len(sites)
        self.split = model.split
        self.sp = model.split_penalty
        self.cap = model.max_shipments
        # Every location used beyond the first adds the split penalty: fold it into its
        # fixed cost and take it back once per plan.
        sp = self.sp
        self.fixed = [site.fixed + sp for site in sites]
        self.unit = unit = [site.unit_cost for site in sites]
        self.codes = codes = [site.code for site in sites]
        order = sorted(range(n), key=lambda s: (unit[s], codes[s]))
        self.rank = rank = [0] * n
        for r, s in enumerate(order):
            rank[s] = r
        self.order = order
        self.capacity = [site.capacity for site in sites]  # capacity[s][i]
        self.caps = [[(i, u) for i, u in enumerate(site.capacity) if u] for site in sites]
        # units in all: no site adds more missing units than this
        self.total = [sum(site.capacity) for site in sites]
        self.alive = [True] * n
        for s in dominated_sites(model):
            self.alive[s] = False
        items = self.items = model.items
        self.holders: list[list[tuple[int, int]]] = [[] for _ in items]
        self.keep_holders()
        self.lines = [tuple(zip(it.lines, it.quantities, strict=True)) for it in items]
        if self.split:
            self.most = [
                min(it.demand, sum(u for _, u in self.holders[i])) for i, it in enumerate(items)
            ]
        else:
            self.most = [
                max_packable(it.quantities, [u for _, u in self.holders[i]])
                for i, it in enumerate(items)
            ]
        self.pack_cache: dict[tuple[int, tuple[int, ...]], Packing] = {}
        # the set being built
        self.chosen: list[int] = []
        self.fixed_sum = 0.0
        self.members: list[list[int]] = [[] for _ in items]
        self.cover = [0] * len(items)
        self.covsum = [0] * len(items)
        self.units = 0  # sum(cover)
        self.allowed = list(self.alive)
        self.best: Solution | None = None
        # the most units phase one has found so far, and a set giving them (for a time-out)
        self.units_found: tuple[int, tuple[int, ...]] = (0, ())
        self.nodes = 0
        # Lagrangian reduced costs (all zero until priced: the bound then adds nothing)
        self.reduced = [0.0] * n
        self.reduced_in = 0.0  # sum over chosen sites
        self.negative_allowed = 0.0  # sum of negative reduced costs over allowed sites

    def keep_holders(self) -> None:
        """Rebuild the holders of each SKU from the alive sites, cheapest unit cost first."""
        alive, caps = self.alive, self.caps
        holders: list[list[tuple[int, int]]] = [[] for _ in self.items]
        for s in self.order:
            if alive[s]:
                for i, u in caps[s]:
                    holders[i].append((s, u))
        self.holders = holders
        total, rank = self.total, self.rank
        self.alive_list = [s for s in range(self.n) if alive[s]]
        self.by_total = sorted(self.alive_list, key=lambda s: (-total[s], rank[s]))

    def gains_above(self, more: int, *, alone: bool = False) -> list[tuple[int, int]]:
        """Return (gain, site) for the allowed sites that could add more than `more` of the
        missing units (their gain: at most their units, per SKU at most what it misses).

        `alone`: the site must add that many on its own (the last slot of a set). A site
        lacking a SKU that misses more than the other SKUs' slack then cannot, so when there
        is such a SKU only the holders of one (the one fewest sites hold) are scanned.
        """
        missing = [m - c for m, c in zip(self.most, self.cover, strict=True)]
        slack = sum(m for m in missing if m > 0) - more - 1
        if slack < 0:
            return []  # no site has a gain above `more`
        allowed, total, caps = self.allowed, self.total, self.caps
        needed = [self.holders[i] for i, m in enumerate(missing) if m > slack] if alone else []
        pool = [s for s, _ in min(needed, key=len)] if needed else self.by_total
        found = []
        for s in pool:
            if total[s] <= more:
                if needed:
                    continue
                break  # by_total is sorted by decreasing units
            if allowed[s]:
                gain = 0
                for i, u in caps[s]:
                    m = missing[i]
                    if m > 0:
                        gain += u if u < m else m
                if gain > more:
                    found.append((gain, s))
        return found

    # -- state ------------------------------------------------------------------

    def forbid(self, s: int) -> None:
        if self.allowed[s]:
            self.allowed[s] = False
            r = self.reduced[s]
            if r < 0:
                self.negative_allowed -= r

    def permit(self, s: int) -> None:
        if not self.allowed[s] and self.alive[s]:
            self.allowed[s] = True
            r = self.reduced[s]
            if r < 0:
                self.negative_allowed += r

    def include(self, s: int) -> None:
        self.chosen.append(s)
        self.forbid(s)
        self.fixed_sum += self.fixed[s]
        self.reduced_in += self.reduced[s]
        covsum, members, cover, most = self.covsum, self.members, self.cover, self.most
        units = self.units
        if self.split:
            for i, u in self.caps[s]:
                members[i].append(s)
                total = covsum[i] + u
                covsum[i] = total
                m = most[i]
                new = total if total < m else m
                units += new - cover[i]
                cover[i] = new
        else:
            for i, u in self.caps[s]:
                members[i].append(s)
                covsum[i] += u
                new = self.packing(i)[0]
                units += new - cover[i]
                cover[i] = new
        self.units = units

    def remove(self, s: int) -> None:
        self.chosen.pop()
        self.fixed_sum -= self.fixed[s]
        self.reduced_in -= self.reduced[s]
        covsum, members, cover, most = self.covsum, self.members, self.cover, self.most
        units = self.units
        if self.split:
            for i, u in self.caps[s]:
                members[i].pop()
                total = covsum[i] - u
                covsum[i] = total
                m = most[i]
                new = total if total < m else m
                units += new - cover[i]
                cover[i] = new
        else:
            for i, u in self.caps[s]:
                members[i].pop()
                covsum[i] -= u
                new = self.packing(i)[0] if members[i] else 0
                units += new - cover[i]
                cover[i] = new
        self.units = units

    def drop(self, s: int) -> None:
        """Take `s` out of the chosen set, wherever it is (`remove` pops the last one)."""
        chosen = self.chosen
        if chosen[-1] != s:
            chosen.remove(s)
            chosen.append(s)
            for i, _ in self.caps[s]:
                self.members[i].remove(s)
                self.members[i].append(s)
        self.remove(s)

    def reset(self) -> None:
        while self.chosen:
            self.remove(self.chosen[-1])
        for s in range(self.n):
            self.permit(s)

    def choose(self, sites: Iterable[int]) -> None:
        """Reset, then choose `sites`."""
        self.reset()
        for s in sites:
            self.include(s)

    def packing(self, i: int) -> Packing:
        """Return (units, unit costs, assignment) of the chosen sites' best packing of SKU i."""
        key = (i, tuple(sorted(self.members[i], key=self.rank.__getitem__)))
        found = self.pack_cache.get(key)
        if found is None:
            unit, capacity = self.unit, self.capacity
            bins = [(unit[s], capacity[s][i], s) for s in key[1]]
            found = pack_lines(self.lines[i], bins)
            self.pack_cache[key] = found
        return found

    def tick(self) -> None:
        self.nodes += 1
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise Timeout

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    # -- the plan of the chosen set ---------------------------------------------------

    def offer(self, solution: Solution) -> None:
        if solution.beats(self.best):
            self.best = solution

    def split_fill(self, i: int) -> list[tuple[int, float, int]]:
        """Return (site, unit cost, units) filling the item's coverage from the cheapest sites."""
        need = self.cover[i]
        fill = []
        unit, capacity = self.unit, self.capacity
        members = self.members[i]
        if len(members) > 1:
            members = sorted(members, key=self.rank.__getitem__)
        for s in members:
            if need <= 0:
                break
            u = capacity[s][i]
            take = u if u < need else need
            fill.append((s, unit[s], take))
            need -= take
        return fill

    def fill_cost(self) -> float:
        """Return the unit costs of the chosen set's plan."""
        if not self.split:
            return sum(self.packing(i)[1] for i, m in enumerate(self.members) if m)
        total = 0.0
        unit, capacity, rank, cover = self.unit, self.capacity, self.rank, self.cover
        for i, members in enumerate(self.members):
            need = cover[i]
            if not need:
                continue
            if len(members) > 1:
                members = sorted(members, key=rank.__getitem__)
            for s in members:
                u = capacity[s][i]
                if u >= need:
                    total += need * unit[s]
                    break
                total += u * unit[s]
                need -= u
        return total

    def split_cost_with(self, extra: int) -> float:
        """Return the cost of the chosen set plus `extra` if lines could be split, or INF
        when even then some SKU would not get its most."""
        unit, capacity, rank, most = self.unit, self.capacity, self.rank, self.most
        total = self.fixed_sum + self.fixed[extra] - self.sp
        added = capacity[extra]
        for i, members in enumerate(self.members):
            need = most[i]
            if self.covsum[i] + added[i] < need:
                return INF
            if not need:
                continue
            if added[i]:
                members = [*members, extra]
            if len(members) > 1:
                members = sorted(members, key=rank.__getitem__)
            for s in members:
                u = capacity[s][i]
                if u >= need:
                    total += need * unit[s]
                    break
                total += u * unit[s]
                need -= u
        return total

    def cost(self) -> float:
        """Return the cost of the chosen set's plan (as make_solution would, up to rounding)."""
        if not self.chosen:
            return 0.0
        return self.fixed_sum - self.sp + self.fill_cost()

    def evaluate(self) -> Solution:
        if self.split:
            return self.assemble_split([self.split_fill(i) for i in range(len(self.items))])
        return self.assemble_packed()

    def assemble_split(self, fills: list[list[tuple[int, float, int]]]) -> Solution:
        allocations = []
        for i, fill in enumerate(fills):
            lines = iter(self.lines[i])
            line, left = next(lines)
            for s, _, q in fill:
                while q > 0:
                    while left == 0:
                        line, left = next(lines)
                    take = q if q < left else left
                    allocations.append((line, s, take))
                    q -= take
                    left -= take
        return make_solution(self.model, allocations)

    def assemble_packed(self) -> Solution:
        allocations: list[tuple[int, int, int]] = []
        for i in range(len(self.items)):
            if not self.members[i]:
                continue
            quantities = dict(self.lines[i])
            _, _, assignment = self.packing(i)
            allocations.extend((line, s, quantities[line]) for line, s in assignment)
        return make_solution(self.model, allocations)

    # -- simple bounds ------------------------------------------------------------------

    def cheapest_fill(self, units: int) -> float:
        """Return the least unit cost of `units` units, each SKU capped at its most."""
        unit = self.unit
        if units >= sum(self.most):
            # every SKU gets its most: its cheapest holders (sorted by unit cost) give them
            cost = 0.0
            for need, held in zip(self.most, self.holders, strict=True):
                for s, u in held:
                    if need <= 0:
                        break
                    take = u if u < need else need
                    cost += take * unit[s]
                    need -= take
            return cost
        pairs = sorted((unit[s], u, i) for i, held in enumerate(self.holders) for s, u in held)
        left = list(self.most)
        total, cost = units, 0.0
        for price, u, i in pairs:
            if total <= 0:
                break
            take = min(u, left[i], total)
            if take > 0:
                left[i] -= take
                total -= take
                cost += take * price
        return cost

    def bare_bound(self, units: int, fill: float | None = None) -> float:
        """Return a weak but instant lower bound on the cost of any plan with `units` units
        (`fill`: their cheapest_fill, when known)."""
        if units <= 0:
            return 0.0
        if fill is None:
            fill = self.cheapest_fill(units)
        alive = self.alive
        return fill + min(site.fixed for s, site in enumerate(self.model.sites) if alive[s])
