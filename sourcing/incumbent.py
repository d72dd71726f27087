"""Good plans before the search: the better the best plan, the more the bounds cut.

* `greedy_incumbent`: repeatedly add the site with the least cost per missing unit.
* `polish`: complete any set the greedy way, then drop the sites it can do without.
  Started from the sites the Lagrangian prices open (negative reduced cost), it
  is the classic Lagrangian heuristic.
* `local_search`: from the best plan, drop a site, or swap one for another.
"""

from __future__ import annotations

from collections.abc import Iterable

from .selection import Selection
from .units_search import gains

IMPROVEMENT = 1e-9


def greedy_incumbent(sel: Selection, target: int) -> None:
    """Offer a quick plan: repeatedly add the site with the least cost per missing unit."""
    polish(sel, target, ())


def polish(sel: Selection, target: int, start: Iterable[int]) -> None:
    """Offer the plan of `start` (its first `cap` sites) completed greedily up to `target`
    units, then trimmed."""
    sel.choose(list(start)[: sel.cap])
    _complete(sel, target)
    if sel.units >= target:
        _trim(sel, target, sel.cost())
        sel.offer(sel.evaluate())
    sel.reset()


def local_search(sel: Selection, target: int, *, rounds: int = 3, tries: int = 12) -> None:
    """Improve the best plan by swapping a chosen site for one that covers what it leaves
    (the `tries` likeliest: least reduced cost first, when priced)."""
    best = sel.best
    if best is None or best.units < target:
        return
    sel.choose(sorted({s for _, s, _ in best.allocations}))
    cost = _trim(sel, target, sel.cost())
    allowed, holders, most, cover, alive = sel.allowed, sel.holders, sel.most, sel.cover, sel.alive
    reduced, rank = sel.reduced, sel.rank
    # Without line splits every set is packed, which costs: screen candidates first by the
    # split relaxation, a lower bound when every SKU must get its most.
    screen = not sel.split and target == sum(most)
    for _ in range(rounds):
        improved = False
        for a in list(sel.chosen):
            if sel.expired():
                break
            if a not in sel.chosen:
                continue  # trimmed away after an earlier swap
            sel.drop(a)
            short = [i for i in range(len(most)) if cover[i] < most[i]]
            pool = []
            if short:
                # a replacement must hold the SKU left shortest; try the likeliest few
                held = holders[max(short, key=lambda i: most[i] - cover[i])]
                pool = [s for s, _ in held if s != a and alive[s] and allowed[s]]
                pool.sort(key=lambda s: (reduced[s], rank[s]))
            swapped = False
            left = tries
            for b in pool:
                if left == 0:
                    break
                if screen and sel.split_cost_with(b) >= cost - IMPROVEMENT:
                    continue  # cannot reach the target, or costs no less even split
                left -= 1
                sel.include(b)
                if sel.units >= target:
                    found = sel.cost()
                    if found < cost - IMPROVEMENT:
                        cost, swapped = _trim(sel, target, found), True
                        break
                sel.drop(b)
                sel.permit(b)
            if swapped:
                improved = True
            else:
                sel.include(a)
        if not improved:
            break
    sel.offer(sel.evaluate())
    sel.reset()


def _complete(sel: Selection, target: int) -> None:
    fixed, unit, rank = sel.fixed, sel.unit, sel.rank
    while len(sel.chosen) < sel.cap and sel.units < target:
        found = gains(sel)
        if not found:
            break
        s = min(found, key=lambda t: (fixed[t] / found[t] + unit[t], rank[t]))
        sel.include(s)


def _trim(sel: Selection, target: int, cost: float, among: list[int] | None = None) -> float:
    """Drop chosen sites (`among` them), dearest fixed cost first, while the plan keeps its
    units and gets cheaper; return the cost."""
    fixed = sel.fixed
    for a in sorted(sel.chosen if among is None else among, key=lambda t: -fixed[t]):
        if len(sel.chosen) == 1:
            break
        sel.drop(a)
        if sel.units >= target:
            found = sel.cost()
            if found < cost - IMPROVEMENT:
                cost = found
                continue
        sel.include(a)
    return cost
