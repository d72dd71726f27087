"""The exact solver: the plan with the most units, then the lowest cost.

Once the set of locations to use is fixed, the rest is easy: with line splits
each SKU takes its units from the cheapest chosen locations (unit cost is per
location), without them a tiny exact packing per SKU does it. So the search is
over sets of locations, depth first:

1. Phase one finds the most units U* (it only needs a search when a shipment cap
   binds: a max-coverage branch and bound whose bound is the sum of the k best
   marginal gains, valid because coverage is submodular).
2. Phase two looks for the cheapest set reaching U*. At a set that still misses
   units it branches on the locations holding a SKU that must still be
   supplied (fewest holders first); at a set that reaches U* it branches only on
   locations whose saving on unit costs could pay their own fixed cost.
   A node is cut when its lower bound (fixed costs so far + the cheapest unit
   costs of U* units + the fixed costs of the missing units, each location's
   fixed cost spread over the missing units it could supply) exceeds the best
   plan found.

docs/sourcing.md explains why each cut is safe.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

from .lagrangian import price_sites, refine
from .model import TOLERANCE, Model
from .packing import max_packable, pack_lines
from .reduction import dominated_sites
from .solution import EMPTY, Solution, make_solution

INF = float("inf")


@dataclass(frozen=True, slots=True)
class Outcome:
    solution: Solution
    proven: bool
    bound: float | None  # lower bound on the cost at solution.units when not proven
    nodes: int


class _Timeout(Exception):
    """The time budget ran out; raised deep in the search, caught at the top."""


def solve(model: Model, *, deadline: float | None = None) -> Outcome:
    """Return the optimal plan of `model`, or the best found when `deadline` passes first."""
    search = _Search(model, deadline)
    return search.run()


class _Search:
    def __init__(self, model: Model, deadline: float | None) -> None:
        self.model = model
        self.deadline = deadline
        sites = model.sites
        self.n = len(sites)
        self.split = model.split
        self.sp = model.split_penalty
        self.cap = model.max_shipments
        # Every location used beyond the first adds the split penalty: fold it into its
        # fixed cost and take it back once per plan.
        self.fixed = [site.fixed + self.sp for site in sites]
        self.unit = [site.unit_cost for site in sites]
        self.codes = [site.code for site in sites]
        order = sorted(range(self.n), key=lambda s: (self.unit[s], self.codes[s]))
        self.rank = [0] * self.n
        for r, s in enumerate(order):
            self.rank[s] = r
        self.caps = [[(i, u) for i, u in enumerate(site.capacity) if u] for site in sites]
        self.alive = [True] * self.n
        for s in dominated_sites(model):
            self.alive[s] = False
        self.holders: list[list[tuple[int, int]]] = [[] for _ in model.items]
        for s in order:
            if self.alive[s]:
                for i, u in self.caps[s]:
                    self.holders[i].append((s, u))
        self.items = model.items
        self.lines = [tuple(zip(it.lines, it.quantities, strict=True)) for it in model.items]
        if self.split:
            self.most = [
                min(it.demand, sum(u for _, u in self.holders[i]))
                for i, it in enumerate(model.items)
            ]
        else:
            self.most = [
                max_packable(it.quantities, [u for _, u in self.holders[i]])
                for i, it in enumerate(model.items)
            ]
        self.pack_cache: dict[tuple[int, tuple[int, ...]], tuple] = {}
        # search state
        self.chosen: list[int] = []
        self.fixed_sum = 0.0
        self.members: list[list[int]] = [[] for _ in model.items]
        self.cover = [0] * len(model.items)
        self.covsum = [0] * len(model.items)
        self.best: Solution | None = None
        self.best_units_set: tuple[int, ...] = ()
        self.best_found = 0  # most units found by phase one so far
        self.target = 0
        self.floor = 0.0  # cheapest unit costs of `target` units from any site
        self.open_bounds: list[float] = []
        self.nodes = 0
        self.prices: list[float] | None = None
        self.timings: dict[str, float] = {}
        self.clock = time.perf_counter()
        # Lagrangian reduced costs (all zero until priced: the bound then adds nothing)
        self.constant = -INF
        self.reduced = [0.0] * self.n
        self.reduced_in = 0.0  # sum over chosen sites
        self.negative_allowed = 0.0  # sum of negative reduced costs over allowed sites
        self.negatives: list[int] = []  # sites with a negative reduced cost, most negative first
        self.allowed = list(self.alive)

    # -- state ------------------------------------------------------------------

    def forbid(self, s: int) -> None:
        if self.allowed[s]:
            self.allowed[s] = False
            if self.reduced[s] < 0:
                self.negative_allowed -= self.reduced[s]

    def permit(self, s: int) -> None:
        if not self.allowed[s] and self.alive[s]:
            self.allowed[s] = True
            if self.reduced[s] < 0:
                self.negative_allowed += self.reduced[s]

    def include(self, s: int) -> None:
        self.chosen.append(s)
        self.forbid(s)
        self.fixed_sum += self.fixed[s]
        self.reduced_in += self.reduced[s]
        for i, u in self.caps[s]:
            self.covsum[i] += u
            self.members[i].append(s)
            self.cover[i] = self.coverage(i)

    def remove(self, s: int) -> None:
        self.chosen.pop()
        self.fixed_sum -= self.fixed[s]
        self.reduced_in -= self.reduced[s]
        for i, u in self.caps[s]:
            self.covsum[i] -= u
            self.members[i].pop()
            self.cover[i] = self.coverage(i)

    def coverage(self, i: int) -> int:
        if self.split:
            return min(self.most[i], self.covsum[i])
        return self.packing(i)[0]

    def packing(self, i: int) -> tuple:
        key = (i, tuple(sorted(self.members[i], key=self.rank.__getitem__)))
        found = self.pack_cache.get(key)
        if found is None:
            bins = [(self.unit[s], self.capacity(s, i), s) for s in key[1]]
            found = pack_lines(self.lines[i], bins)
            self.pack_cache[key] = found
        return found

    def tick(self) -> None:
        self.nodes += 1
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Timeout

    # -- top level --------------------------------------------------------------

    def run(self) -> Outcome:
        if not self.n or not self.cap or not any(self.most):
            return Outcome(EMPTY, True, None, 0)
        self.target = sum(self.most)
        self.lap("start")
        try:
            self.target = self.max_units()
        except _Timeout:
            # Units not even proven: return the best coverage found, bounded for its units.
            self.reset()
            for s in self.best_units_set:
                self.include(s)
            solution = self.evaluate() if self.best_units_set else EMPTY
            return Outcome(solution, False, self.bare_bound(solution.units), self.nodes)
        self.lap("units")
        self.floor = self.cheapest_fill(self.target)
        self.reset()
        if self.cap < self.n:
            for s in self.hopeless(self.target):
                self.alive[s] = False
            self.holders = [[(s, u) for s, u in held if self.alive[s]] for held in self.holders]
        for s in self.best_units_set:
            self.include(s)
        if self.best_units_set:
            self.offer(self.evaluate())
        self.reset()
        self.greedy_incumbent()
        self.lap("incumbent")
        # Valid for every plan with `target` units, whatever the search has done so far.
        self.root_bound = self.bare_bound(self.target)
        try:
            if self.best is not None and self.target == sum(self.most):
                # With units to spare under a cap the units search does the cutting; pricing
                # pays off when every SKU must be filled to its most.
                self.price()
                self.tick()
            self.lap("pricing")
            self.descend()
            self.lap("search")
        except _Timeout:
            if self.best is None:
                return Outcome(EMPTY, False, self.bare_bound(0), self.nodes)
            # Every unexplored node lies under a node on the stack, whose bound covers it.
            bound = min(self.open_bounds) if self.open_bounds else self.root_bound
            return Outcome(self.best, False, min(bound, self.best.cost), self.nodes)
        assert self.best is not None
        return Outcome(self.best, True, None, self.nodes)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = (now - self.clock) * 1000
        self.clock = now

    def bare_bound(self, units: int) -> float:
        """Return a weak but instant lower bound on the cost of any plan with `units` units."""
        if units <= 0:
            return 0.0
        return self.cheapest_fill(units) + min(
            site.fixed for s, site in enumerate(self.model.sites) if self.alive[s]
        )

    def reset(self) -> None:
        while self.chosen:
            self.remove(self.chosen[-1])
        for s in range(self.n):
            self.permit(s)
        self.open_bounds = []

    def price(self) -> None:
        """Compute Lagrangian reduced costs and drop the sites that cannot beat the incumbent."""
        assert self.best is not None
        prices = price_sites(
            fixed=self.fixed,
            unit=self.unit,
            holders=self.holders,
            most=self.most,
            target=self.target,
            split_penalty=self.sp,
            cap=self.cap,
            upper=self.best.cost,
            deadline=self.deadline,
        )
        self.constant = prices.constant
        self.reduced = prices.reduced
        self.prices = prices.price
        self.root_bound = max(self.root_bound, prices.bound)
        self.negatives = sorted(
            (s for s in range(self.n) if self.reduced[s] < 0), key=self.reduced.__getitem__
        )
        self.negative_allowed = sum(self.reduced[s] for s in self.negatives)
        limit = self.best.cost + TOLERANCE
        for s in range(self.n):
            if self.lagrangian_with(s) > limit:
                self.forbid(s)
                self.alive[s] = False
        self.holders = [[(s, u) for s, u in held if self.alive[s]] for held in self.holders]
        self.priced_holders = [
            [(s, min(u, self.most[i])) for s, u in held] for i, held in enumerate(self.holders)
        ]
        self.priced_caps = [[(i, min(u, self.most[i])) for i, u in caps] for caps in self.caps]

    def refined(self) -> tuple[float, list[int]]:
        """Return the node's own Lagrangian bound and the free sites it rules out."""
        ceilings = {}
        for i in range(len(self.items)):
            if self.members[i] and self.cover[i] >= self.most[i]:
                ceilings[i] = self.split_fill(i)[-1][1]
        free = [s for s in range(self.n) if self.allowed[s]]
        bound, reduced = refine(
            self.prices,
            forced=self.chosen,
            free=free,
            fixed=self.fixed,
            unit=self.unit,
            caps=self.priced_caps,
            holders=self.priced_holders,
            most=self.most,
            split_penalty=self.sp,
            ceilings=ceilings,
        )
        assert self.best is not None
        room = self.best.cost + TOLERANCE - bound
        return bound, [s for s, r in reduced.items() if r > room]

    def lagrangian_with(self, s: int) -> float:
        """Return the Lagrangian bound of the current node with site `s` added."""
        slots = self.cap - len(self.chosen) - 1
        if slots < 0:
            return INF
        value = self.constant + self.reduced_in + self.reduced[s]
        if slots >= self.n:
            return value + self.negative_allowed - min(self.reduced[s], 0.0)
        for t in self.negatives:
            if slots <= 0:
                break
            if self.allowed[t] and t != s:
                value += self.reduced[t]
                slots -= 1
        return value

    def lagrangian(self) -> float:
        """Return the Lagrangian bound of the current node."""
        slots = self.cap - len(self.chosen)
        value = self.constant + self.reduced_in
        if slots >= self.n:
            return value + self.negative_allowed
        for t in self.negatives:
            if slots <= 0:
                break
            if self.allowed[t]:
                value += self.reduced[t]
                slots -= 1
        return value

    def offer(self, solution: Solution) -> None:
        if solution.beats(self.best):
            self.best = solution

    def cheapest_fill(self, units: int) -> float:
        """Return the least unit cost of `units` units, each SKU capped at its most."""
        pairs = sorted(
            (self.unit[s], u, i) for i, holders in enumerate(self.holders) for s, u in holders
        )
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

    # -- phase one: most units ----------------------------------------------------

    def max_units(self) -> int:
        ceiling = sum(self.most)
        if self.cap >= self.n:
            self.best_units_set = ()
            return ceiling
        # greedy: the largest marginal gain first
        best_units = 0
        while len(self.chosen) < self.cap:
            gains = self.gains()
            if not gains:
                break
            s = max(gains, key=lambda t: (gains[t], -self.fixed[t], -self.rank[t]))
            self.include(s)
            units = sum(self.cover)
            if units > best_units:
                best_units = units
                self.best_units_set = tuple(self.chosen)
        self.reset()
        self.best_found = best_units
        if best_units < ceiling:
            self.hopeless(best_units + 1)  # only sets with more units matter here
            self.units_search(ceiling)
            self.reset()
        return self.best_found

    def hopeless(self, threshold: int) -> list[int]:
        """Return allowed sites that cannot be in any set of at most `cap` sites reaching
        `threshold` units: their gain plus the best other gains falls short."""
        found: list[int] = []
        while True:
            gains = self.gains()
            top = heapq.nlargest(self.cap, gains.values())
            full, rest = sum(top), sum(top[:-1])
            lost = [s for s, g in gains.items() if (full if g >= top[-1] else g + rest) < threshold]
            lost.extend(s for s in range(self.n) if self.allowed[s] and s not in gains)
            if not lost:
                return found
            for s in lost:
                self.forbid(s)
            found.extend(lost)

    def gains(self) -> dict[int, int]:
        """Return each allowed site's upper bound on the units it adds to the chosen set."""
        gains: dict[int, int] = {}
        for i, held in enumerate(self.holders):
            missing = self.most[i] - self.cover[i]
            if missing <= 0:
                continue
            for s, u in held:
                if self.allowed[s]:
                    gains[s] = gains.get(s, 0) + (u if u < missing else missing)
        return gains

    def units_search(self, ceiling: int) -> None:
        self.tick()
        units = sum(self.cover)
        if units > self.best_found:
            self.best_found = units
            self.best_units_set = tuple(self.chosen)
        if self.best_found >= ceiling or len(self.chosen) >= self.cap:
            return
        slots = self.cap - len(self.chosen)
        gains = self.gains()
        ranked = sorted(gains, key=lambda t: (-gains[t], self.fixed[t], self.rank[t]))
        values = [gains[s] for s in ranked]
        excluded = []
        for j, s in enumerate(ranked):
            if units + sum(values[j : j + slots]) <= self.best_found:
                break
            self.include(s)
            self.units_search(ceiling)
            self.remove(s)
            self.forbid(s)
            excluded.append(s)
            if self.best_found >= ceiling:
                break
        for s in excluded:
            self.permit(s)

    # -- phase two: least cost at the most units ----------------------------------

    def greedy_incumbent(self) -> None:
        """Offer a quick plan: repeatedly add the site with the least cost per missing unit."""
        while len(self.chosen) < self.cap and sum(self.cover) < self.target:
            gains = self.gains()
            if not gains:
                break
            s = min(gains, key=lambda t: ((self.fixed[t] / gains[t]) + self.unit[t], self.rank[t]))
            self.include(s)
        if sum(self.cover) >= self.target:
            self.offer(self.evaluate())
        self.reset()

    def descend(self) -> None:
        self.tick()
        units = sum(self.cover)
        base = self.fixed_sum - self.sp
        if units >= self.target:
            self.improve(base)
            return
        slots = self.cap - len(self.chosen)
        best_cost = self.best.cost if self.best is not None else INF
        lagrangian = self.lagrangian()
        if slots <= 0 or lagrangian > best_cost + TOLERANCE:
            return
        ruled_out: list[int] = []
        if self.prices is not None and self.cap >= self.n:
            # A node's own prices cut whole subtrees and rule sites out of them.
            refined, ruled_out = self.refined()
            if refined > best_cost + TOLERANCE:
                return
            lagrangian = max(lagrangian, refined)
            for s in ruled_out:
                self.forbid(s)
        try:
            self.expand(units, base, slots, best_cost, lagrangian)
        finally:
            for s in ruled_out:
                self.permit(s)

    def expand(self, units: int, base: float, slots: int, best_cost: float, lagrangian: float):
        """Branch from a node that misses units: bound it, then try the sites that could help."""
        need = self.target - units
        deficits = []
        total_missing = 0
        for i in range(len(self.items)):
            missing = self.most[i] - self.cover[i]
            if missing > 0:
                deficits.append((i, missing))
                total_missing += missing
        slack = total_missing - need
        gains: dict[int, int] = {}
        forced_fixed = 0.0
        branch_item, branch_count = -1, INF
        for i, missing in deficits:
            cheapest, count = INF, 0
            for s, u in self.holders[i]:
                if self.allowed[s]:
                    gains[s] = gains.get(s, 0) + (u if u < missing else missing)
                    count += 1
                    if self.fixed[s] < cheapest:
                        cheapest = self.fixed[s]
            if missing > slack:
                # some unit of this SKU must come from a site not chosen yet
                if count == 0:
                    return
                forced_fixed = max(forced_fixed, cheapest)
                if count < branch_count:
                    branch_item, branch_count = i, count
        if not gains or base + self.floor + forced_fixed > best_cost + TOLERANCE:
            return
        by_gain = None
        if slots < len(gains):
            # The cap binds: with sites taken by decreasing gain, child j can only add the gains
            # of the `slots` best sites from j on (earlier siblings are excluded in its subtree).
            by_gain = sorted(gains, key=lambda t: (-gains[t], self.rank[t]))
            values = [gains[s] for s in by_gain]
            window = sum(values[:slots])
            if window < need:
                return
            reach = len(by_gain)
            for j in range(1, len(by_gain)):
                window += (values[j + slots - 1] if j + slots - 1 < len(values) else 0) - values[
                    j - 1
                ]
                if window < need:
                    reach = j
                    break
            del by_gain[reach:]
        bound = base + self.floor + max(self.spread_fixed(deficits, gains, need), forced_fixed)
        bound = max(bound, lagrangian)
        if bound > best_cost + TOLERANCE:
            return
        if by_gain is not None and len(by_gain) <= branch_count:
            children = by_gain
        else:
            if branch_item >= 0:
                children = [s for s, _ in self.holders[branch_item] if self.allowed[s]]
            else:
                children = list(gains)
            if by_gain is not None:
                rest = sum(values[: slots - 1])
                children = [s for s in children if gains.get(s, 0) + rest >= need]
            children.sort(key=lambda t: (self.fixed[t] / gains[t] + self.unit[t], self.rank[t]))
        self.open_bounds.append(bound)
        self.branch(children, base)
        self.open_bounds.pop()

    def spread_fixed(self, deficits: list[tuple[int, int]], gains: dict[int, int], need: int):
        """Return a lower bound on the fixed costs of the sites still to add.

        Each missing unit that a new site s supplies is charged fixed[s] / gains[s]: a site
        supplies at most gains[s] missing units, so its full fixed cost is never exceeded.
        """
        pairs = []
        for i, missing in deficits:
            for s, u in self.holders[i]:
                if self.allowed[s]:
                    pairs.append((self.fixed[s] / gains[s], i, u if u < missing else missing))
        pairs.sort()
        left = dict(deficits)
        total = 0.0
        for rate, i, u in pairs:
            if need <= 0:
                break
            take = min(u, left[i], need)
            if take > 0:
                left[i] -= take
                need -= take
                total += take * rate
        return total

    def branch(self, children: list[int], base: float) -> None:
        excluded = []
        for s in children:
            best_cost = self.best.cost if self.best is not None else INF
            if (
                base + self.fixed[s] + self.floor <= best_cost + TOLERANCE
                and self.lagrangian_with(s) <= best_cost + TOLERANCE
            ):
                self.include(s)
                self.descend()
                self.remove(s)
            self.forbid(s)
            excluded.append(s)
        for s in excluded:
            self.permit(s)

    def improve(self, base: float) -> None:
        """Evaluate a set reaching the target, then branch on sites that could pay for it."""
        fills = [self.split_fill(i) for i in range(len(self.items))]
        self.offer(self.assemble_split(fills) if self.split else self.assemble_packed())
        if len(self.chosen) >= self.cap:
            return
        assert self.best is not None
        relaxed = base + sum(price * q for fill in fills for _, price, q in fill)
        room = max(self.best.cost - relaxed, 0.0)
        # Saving of one added site on the relaxed fill; savings of several add up to no more
        # than the sum of their savings (the relaxed fill is a matroid), see the design note.
        terms: dict[int, float] = {}
        for i, fill in enumerate(fills):
            if not fill:
                continue
            dearest = fill[-1][1]
            for s, u in self.holders[i]:
                price = self.unit[s]
                if not self.allowed[s] or price >= dearest:
                    continue
                saving = 0.0
                for _, paid, q in reversed(fill):
                    if u <= 0 or paid <= price:
                        break
                    take = q if q < u else u
                    saving += take * (paid - price)
                    u -= take
                terms[s] = terms.get(s, 0.0) + saving
        children = []
        negative = 0.0
        for s in range(self.n):
            if not self.allowed[s]:
                continue
            term = self.fixed[s] - terms.get(s, 0.0)
            if term <= room + TOLERANCE:
                children.append((term, self.rank[s], s))
                negative += min(term, 0.0)
        if not children:
            return
        children.sort()
        self.open_bounds.append(relaxed + negative)
        self.branch([s for _, _, s in children], base)
        self.open_bounds.pop()

    def split_fill(self, i: int) -> list[tuple[int, float, int]]:
        """Return (site, unit cost, units) filling the item's coverage from the cheapest sites."""
        need = self.cover[i]
        fill = []
        for s in sorted(self.members[i], key=self.rank.__getitem__):
            if need <= 0:
                break
            u = self.capacity(s, i)
            take = u if u < need else need
            fill.append((s, self.unit[s], take))
            need -= take
        return fill

    def capacity(self, s: int, i: int) -> int:
        return self.model.sites[s].capacity[i]

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
        return self.solution(allocations)

    def assemble_packed(self) -> Solution:
        allocations = []
        for i in range(len(self.items)):
            if not self.members[i]:
                continue
            quantities = dict(self.lines[i])
            _, _, assignment = self.packing(i)
            allocations.extend((line, s, quantities[line]) for line, s in assignment)
        return self.solution(allocations)

    def solution(self, allocations: list[tuple[int, int, int]]) -> Solution:
        return make_solution(self.model, allocations)
