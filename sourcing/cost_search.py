"""Phase two: the cheapest set of locations reaching the most units.

Depth first over sets. At a set that still misses units the search branches
on the sites holding a SKU that must still be supplied (fewest holders first;
under a tight cap, on sites by decreasing gain with a sliding-window units
bound; with one slot left, on the sites that supply every missing unit on
their own); child j excludes children 1..j-1, so every set is seen once. At a
set that reaches the target it evaluates the plan, then branches only on sites
whose saving on unit costs could pay their own fixed cost. A node is cut when
any lower bound exceeds the best plan found (docs/sourcing.md says why each is
safe): the fixed costs so far + the cheapest unit costs of the target + the
fixed costs of the missing units; the root Lagrangian bound (O(1) per node);
and, without a cap, the node's own Lagrangian bound, which also rules sites
out of the node's subtree and bounds each child before it is entered.
"""

from __future__ import annotations

from .lagrangian import price_sites, refine
from .model import TOLERANCE
from .selection import INF, Selection

# With this few slots left the gains window and the last-slot scan cut what the spread
# bound of `expand` would (it sorts every site-SKU pair): `expand_few` leaves it out.
FEW_SLOTS = 3

# a node's own Lagrangian bound and reduced costs, when it has them
Node = tuple[float, list[float]] | None


class CostSearch:
    def __init__(self, sel: Selection, target: int) -> None:
        self.sel = sel
        self.target = target
        self.floor = sel.cheapest_fill(target)  # cheapest unit costs of `target` units
        # valid for every plan with `target` units, whatever the search has done so far
        self.root_bound = sel.bare_bound(target, self.floor)
        self.open_bounds: list[float] = []
        self.prices: list[float] | None = None
        self.constant = -INF
        self.negatives: list[int] = []  # sites with a negative reduced cost, most negative first

    # -- Lagrangian prices ----------------------------------------------------------

    def price(self) -> None:
        """Compute Lagrangian reduced costs and drop the sites that cannot beat the incumbent."""
        sel = self.sel
        assert sel.best is not None
        prices = price_sites(
            fixed=sel.fixed,
            unit=sel.unit,
            holders=sel.holders,
            most=sel.most,
            target=self.target,
            split_penalty=sel.sp,
            cap=sel.cap,
            upper=sel.best.cost,
            deadline=sel.deadline,
        )
        # install the reduced costs (nothing is chosen, so only the allowed sums change)
        assert not sel.chosen
        sel.reduced = reduced = prices.reduced
        sel.negative_allowed = sum(r for s, r in enumerate(reduced) if r < 0 and sel.allowed[s])
        self.constant = prices.constant
        self.prices = prices.price
        self.root_bound = max(self.root_bound, prices.bound)
        self.negatives = sorted(
            (s for s in range(sel.n) if reduced[s] < 0), key=reduced.__getitem__
        )
        self.root_reduced = reduced
        self.fix()

    def fix(self) -> None:
        """Drop every site whose forced opening would push the root bound above the best plan."""
        sel = self.sel
        assert sel.best is not None
        limit = sel.best.cost + TOLERANCE
        for s in range(sel.n):
            if sel.alive[s] and self.lagrangian_with(s) > limit:
                sel.forbid(s)
                sel.alive[s] = False
        sel.keep_holders()
        most = sel.most
        # the holders the node bounds price: units capped at the SKU's most
        self.priced_holders = [
            [(s, u if u < m else m) for s, u in held]
            for m, held in zip(most, sel.holders, strict=True)
        ]

    def refined(self, prices: list[float]) -> tuple[float, list[int], list[float]]:
        """Return the node's own Lagrangian bound from the root's `prices`, the free sites it
        rules out and the node's reduced costs."""
        sel = self.sel
        assert sel.best is not None
        ceilings = {}
        members, cover, most = sel.members, sel.cover, sel.most
        for i in range(len(most)):
            if members[i] and cover[i] >= most[i]:
                ceilings[i] = sel.split_fill(i)[-1][1]
        allowed = sel.allowed
        free = [s for s in sel.alive_list if allowed[s]]
        state = [0] * sel.n
        for s in free:
            state[s] = 1
        for s in sel.chosen:
            state[s] = 2
        bound, reduced, _ = refine(
            prices,
            self.root_reduced,
            state=state,
            forced=sel.chosen,
            free=free,
            unit=sel.unit,
            holders=self.priced_holders,
            most=most,
            split_penalty=sel.sp,
            ceilings=ceilings,
            limit=sel.best.cost + TOLERANCE,
        )
        room = sel.best.cost + TOLERANCE - bound
        if room < 0:
            return bound, [], reduced  # the node is cut: nothing to rule out
        return bound, [s for s in free if reduced[s] > room], reduced

    def lagrangian_with(self, s: int) -> float:
        """Return the Lagrangian bound of the current node with site `s` added."""
        sel = self.sel
        slots = sel.cap - len(sel.chosen) - 1
        if slots < 0:
            return INF
        reduced = sel.reduced
        value = self.constant + sel.reduced_in + reduced[s]
        if sel.cap >= sel.n:
            # no cap binds: every other allowed site with a negative reduced cost may open
            r = reduced[s]
            return value + sel.negative_allowed - (r if r < 0 else 0.0)
        allowed = sel.allowed
        for t in self.negatives:
            if slots <= 0:
                break
            if allowed[t] and t != s:
                value += reduced[t]
                slots -= 1
        return value

    def lagrangian(self) -> float:
        """Return the Lagrangian bound of the current node."""
        sel = self.sel
        slots = sel.cap - len(sel.chosen)
        value = self.constant + sel.reduced_in
        if sel.cap >= sel.n:
            return value + sel.negative_allowed
        reduced, allowed = sel.reduced, sel.allowed
        for t in self.negatives:
            if slots <= 0:
                break
            if allowed[t]:
                value += reduced[t]
                slots -= 1
        return value

    # -- the search -------------------------------------------------------------------

    def descend(self) -> None:
        sel = self.sel
        sel.tick()
        base = sel.fixed_sum - sel.sp
        if sel.units >= self.target:
            self.improve(base)
            return
        slots = sel.cap - len(sel.chosen)
        best_cost = sel.best.cost if sel.best is not None else INF
        lagrangian = self.lagrangian()
        if slots <= 0 or lagrangian > best_cost + TOLERANCE:
            return
        ruled_out: list[int] = []
        node = None
        if self.prices is not None and sel.cap >= sel.n:
            # A node's own prices cut whole subtrees and rule sites out of them.
            refined, ruled_out, reduced = self.refined(self.prices)
            if refined > best_cost + TOLERANCE:
                return
            lagrangian = max(lagrangian, refined)
            node = (refined, reduced)
            for s in ruled_out:
                sel.forbid(s)
        try:
            if slots == 1:
                self.expand_last(base, best_cost, lagrangian, node)
            elif slots <= FEW_SLOTS:
                self.expand_few(base, slots, best_cost, lagrangian, node)
            else:
                self.expand(base, slots, best_cost, lagrangian, node)
        finally:
            for s in ruled_out:
                sel.permit(s)

    def expand(
        self, base: float, slots: int, best_cost: float, lagrangian: float, node: Node
    ) -> None:
        """Branch from a node that misses units: bound it, then try the sites that could help."""
        sel = self.sel
        need = self.target - sel.units
        most, cover, holders, allowed, fixed = (
            sel.most,
            sel.cover,
            sel.holders,
            sel.allowed,
            sel.fixed,
        )
        deficits = []
        total_missing = 0
        for i in range(len(most)):
            missing = most[i] - cover[i]
            if missing > 0:
                deficits.append((i, missing))
                total_missing += missing
        slack = total_missing - need
        gains = [0] * sel.n  # per site, the most missing units it could supply
        touched = []  # the sites with a gain
        forced_fixed = 0.0
        branch_item, branch_count = -1, INF
        for i, missing in deficits:
            cheapest, count = INF, 0
            for s, u in holders[i]:
                if allowed[s]:
                    gain = gains[s]
                    if not gain:
                        touched.append(s)
                    gains[s] = gain + (u if u < missing else missing)
                    count += 1
                    if fixed[s] < cheapest:
                        cheapest = fixed[s]
            if missing > slack:
                # some unit of this SKU must come from a site not chosen yet
                if count == 0:
                    return
                if cheapest > forced_fixed:
                    forced_fixed = cheapest
                if count < branch_count:
                    branch_item, branch_count = i, count
        if not touched or base + self.floor + forced_fixed > best_cost + TOLERANCE:
            return
        rank = sel.rank
        by_gain = None
        if slots < len(touched):
            # The cap binds: with sites taken by decreasing gain, child j can only add the gains
            # of the `slots` best sites from j on (earlier siblings are excluded in its subtree).
            ranked = sorted([(-gains[s], rank[s], s) for s in touched])
            by_gain = [s for _, _, s in ranked]
            values = [-g for g, _, _ in ranked]
            window = sum(values[:slots])
            if window < need:
                return
            reach = len(by_gain)
            count = len(values)
            for j in range(1, count):
                k = j + slots - 1
                window += (values[k] if k < count else 0) - values[j - 1]
                if window < need:
                    reach = j
                    break
            del by_gain[reach:]
        bound = base + self.floor + max(self.spread_fixed(deficits, gains, need), forced_fixed)
        if lagrangian > bound:
            bound = lagrangian
        if bound > best_cost + TOLERANCE:
            return
        if by_gain is not None and len(by_gain) <= branch_count:
            children = by_gain
        else:
            if branch_item >= 0:
                children = [s for s, _ in holders[branch_item] if allowed[s]]
            else:
                children = touched
            if by_gain is not None:
                rest = sum(values[: slots - 1])
                children = [s for s in children if gains[s] + rest >= need]
            unit = sel.unit
            children.sort(key=lambda t: (fixed[t] / gains[t] + unit[t], rank[t]))
        self.open_bounds.append(bound)
        self.branch(children, base, node)
        self.open_bounds.pop()

    def expand_few(
        self, base: float, slots: int, best_cost: float, lagrangian: float, node: Node
    ) -> None:
        """Branch from a node with a few slots left (a binding cap).

        Taken by decreasing gain, child j can only add the gains of the `slots` best sites
        from j on (earlier siblings are excluded in its subtree): a site whose gain is at
        most need / slots (rounded up, minus one) never gets that far, and its gain is not
        computed; in the windows it counts as that much. A SKU missing more than the others'
        slack must get a new site: the fixed cost of its cheapest holder is due, and when it
        has fewer holders than there are sites to try by gain, they are the children.
        """
        sel = self.sel
        need = self.target - sel.units
        missing = [m - c for m, c in zip(sel.most, sel.cover, strict=True)]
        slack = sum(m for m in missing if m > 0) - need
        if slack < 0:
            return
        allowed, fixed, rank, unit = sel.allowed, sel.fixed, sel.rank, sel.unit
        forced_fixed = 0.0
        branch: list[int] | None = None
        holders = sel.holders
        for i, m in enumerate(missing):
            if m > slack:
                cheapest, count = INF, 0
                for s, _ in holders[i]:
                    if allowed[s]:
                        count += 1
                        if fixed[s] < cheapest:
                            cheapest = fixed[s]
                if not count:
                    return
                if cheapest > forced_fixed:
                    forced_fixed = cheapest
                if branch is None or count < len(branch):
                    branch = [s for s, _ in holders[i] if allowed[s]]
        bound = base + self.floor + forced_fixed
        if lagrangian > bound:
            bound = lagrangian
        if bound > best_cost + TOLERANCE:
            return
        low = (need + slots - 1) // slots - 1
        ranked = sorted([(-g, rank[s], s) for g, s in sel.gains_above(low)])
        by_gain = [s for _, _, s in ranked]
        values = [-g for g, _, _ in ranked] + [low] * slots
        window = sum(values[:slots])
        if window < need:
            return
        for j in range(1, len(by_gain)):
            window += values[j + slots - 1] - values[j - 1]
            if window < need:
                del by_gain[j:]
                break
        if branch is None or len(by_gain) <= len(branch):
            children = by_gain
        else:
            # each child must reach `need` with the best gains of the other slots
            rest = sum(values[: slots - 1])
            caps = sel.caps
            gains = {}
            for s in branch:
                gain = 0
                for i, u in caps[s]:
                    m = missing[i]
                    if m > 0:
                        gain += u if u < m else m
                if gain + rest >= need:
                    gains[s] = gain
            children = sorted(gains, key=lambda t: (fixed[t] / gains[t] + unit[t], rank[t]))
        self.open_bounds.append(bound)
        self.branch(children, base, node)
        self.open_bounds.pop()

    def expand_last(self, base: float, best_cost: float, lagrangian: float, node: Node) -> None:
        """Branch from a node with one slot left: the site it adds must supply every missing
        unit on its own, so only sites with that many units are scanned (largest first)."""
        sel = self.sel
        need = self.target - sel.units
        children = sel.gains_above(need - 1, alone=True)
        if not children:
            return
        fixed, unit, rank = sel.fixed, sel.unit, sel.rank
        bound = base + self.floor + min(fixed[s] for _, s in children)
        if lagrangian > bound:
            bound = lagrangian
        if bound > best_cost + TOLERANCE:
            return
        children.sort(key=lambda pair: (fixed[pair[1]] / pair[0] + unit[pair[1]], rank[pair[1]]))
        self.open_bounds.append(bound)
        self.branch([s for _, s in children], base, node)
        self.open_bounds.pop()

    def spread_fixed(self, deficits: list[tuple[int, int]], gains: list[int], need: int) -> float:
        """Return a lower bound on the fixed costs of the sites still to add.

        Each missing unit that a new site s supplies is charged fixed[s] / gains[s]: a site
        supplies at most gains[s] missing units, so its full fixed cost is never exceeded.
        """
        sel = self.sel
        holders, allowed, fixed = sel.holders, sel.allowed, sel.fixed
        pairs: list[tuple[float, int, int]] = []
        append = pairs.append
        for i, missing in deficits:
            for s, u in holders[i]:
                if allowed[s]:
                    append((fixed[s] / gains[s], i, u if u < missing else missing))
        pairs.sort()
        left = dict(deficits)
        total = 0.0
        for rate, i, u in pairs:
            if need <= 0:
                break
            have = left[i]
            take = u if u < have else have
            if need < take:
                take = need
            if take > 0:
                left[i] = have - take
                need -= take
                total += take * rate
        return total

    def branch(self, children: list[int], base: float, node: Node = None) -> None:
        """Try each child in turn; child j excludes children 1..j-1.

        With the node's own Lagrangian bound and reduced costs (`node`), child j's bound with
        the same prices is the node's, plus its reduced cost when positive, minus the
        negative reduced costs of the children excluded before it.
        """
        sel = self.sel
        fixed, floor = sel.fixed, self.floor
        excluded = []
        if node is not None:
            bound, reduced = node
        else:
            bound, reduced = -INF, sel.reduced
        for s in children:
            best_cost = sel.best.cost if sel.best is not None else INF
            r = reduced[s]
            if (
                bound + (r if r > 0 else 0.0) <= best_cost + TOLERANCE
                and base + fixed[s] + floor <= best_cost + TOLERANCE
                and self.lagrangian_with(s) <= best_cost + TOLERANCE
            ):
                sel.include(s)
                self.descend()
                sel.remove(s)
            sel.forbid(s)
            excluded.append(s)
            if r < 0:
                bound -= r
        for s in excluded:
            sel.permit(s)

    def improve(self, base: float) -> None:
        """Evaluate a set reaching the target, then branch on sites that could pay for it."""
        sel = self.sel
        fills = [sel.split_fill(i) for i in range(len(sel.items))]
        sel.offer(sel.assemble_split(fills) if sel.split else sel.assemble_packed())
        if len(sel.chosen) >= sel.cap:
            return
        assert sel.best is not None
        relaxed = base + sum(price * q for fill in fills for _, price, q in fill)
        room = max(sel.best.cost - relaxed, 0.0)
        # Saving of one added site on the relaxed fill; savings of several add up to no more
        # than the sum of their savings (the relaxed fill is a matroid), see the design note.
        terms: dict[int, float] = {}
        allowed, unit, holders = sel.allowed, sel.unit, sel.holders
        for i, fill in enumerate(fills):
            if not fill:
                continue
            dearest = fill[-1][1]
            for s, u in holders[i]:
                price = unit[s]
                if price >= dearest:
                    break  # holders are sorted by unit cost
                if not allowed[s]:
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
        fixed, rank = sel.fixed, sel.rank
        limit = room + TOLERANCE
        for s in sel.alive_list:
            if not allowed[s]:
                continue
            term = fixed[s] - terms.get(s, 0.0)
            if term <= limit:
                children.append((term, rank[s], s))
                if term < 0:
                    negative += term
        if not children:
            return
        children.sort()
        self.open_bounds.append(relaxed + negative)
        self.branch([s for _, _, s in children], base)
        self.open_bounds.pop()
