"""The exact solver: the plan with the most units, then the lowest cost.

The search is over sets of locations (`selection.py` turns a set into its plan):

1. Phase one (`units_search.py`) finds the most units U*; it only needs a search
   when a shipment cap binds.
2. A quick incumbent (`incumbent.py`): a greedy plan, improved by local search.
3. Lagrangian prices (`lagrangian.py`) give a root bound and reduced costs, which
   drop every location that could not be in a plan cheaper than the incumbent.
4. Phase two (`cost_search.py`) looks for the cheapest set reaching U*.

docs/sourcing.md explains why each cut is safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cost_search import CostSearch
from .incumbent import greedy_incumbent, local_search, polish
from .model import TOLERANCE, Model
from .selection import Selection, Timeout
from .solution import EMPTY, Solution
from .units_search import hopeless, max_units

# The Lagrangian heuristic starts from at most this many sites (trimming more costs more
# than it finds, above all without line splits where every set is packed).
OPENED = 12
# With this few sites left after pricing the search is quicker than a better incumbent.
SMALL = 12


@dataclass(frozen=True, slots=True)
class Outcome:
    solution: Solution
    proven: bool
    bound: float | None  # lower bound on the cost at solution.units when not proven
    nodes: int


def solve(model: Model, *, deadline: float | None = None) -> Outcome:
    """Return the optimal plan of `model`, or the best found when `deadline` passes first."""
    sel = Selection(model, deadline)
    if not sel.n or not sel.cap or not any(sel.most):
        return Outcome(EMPTY, True, None, 0)
    try:
        target, units_set = max_units(sel)
    except Timeout:
        # Units not even proven: return the best coverage found, bounded for its units.
        _, units_set = sel.units_found
        sel.choose(units_set)
        solution = sel.evaluate() if units_set else EMPTY
        return Outcome(solution, False, sel.bare_bound(solution.units), sel.nodes)
    sel.reset()
    if sel.cap < sel.n:
        for s in hopeless(sel, target):
            sel.alive[s] = False
        sel.keep_holders()
    if units_set:
        sel.choose(units_set)
        sel.offer(sel.evaluate())
        sel.reset()
    greedy_incumbent(sel, target)
    search = CostSearch(sel, target)
    try:
        if sel.best is not None and target == sum(sel.most):
            # With units to spare under a cap the units search does the cutting; pricing
            # pays off when every SKU must be filled to its most.
            search.price()
            sel.tick()
            before = sel.best.cost
            alive = sel.alive
            if before > search.root_bound + TOLERANCE and sum(alive) > SMALL:
                # The Lagrangian heuristic: the sites the prices open, most negative first.
                opened = [s for s in search.negatives if alive[s]][:OPENED]
                polish(sel, target, opened)
                local_search(sel, target)
                if sel.best.cost < before:
                    search.fix()
                sel.tick()
        search.descend()
    except Timeout:
        if sel.best is None:
            return Outcome(EMPTY, False, sel.bare_bound(0), sel.nodes)
        # Every unexplored node lies under a node on the stack, whose bound covers it.
        open_bounds = search.open_bounds
        bound = min(open_bounds) if open_bounds else search.root_bound
        return Outcome(sel.best, False, min(bound, sel.best.cost), sel.nodes)
    assert sel.best is not None
    return Outcome(sel.best, True, None, sel.nodes)
