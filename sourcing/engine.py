"""The entry point: `plan(instance, strategy, budget_ms)`."""

from __future__ import annotations

import time

from .errors import UnknownStrategy
from .explanation import explain
from .instance import Instance
from .model import Model, build_model
from .optimal import solve
from .plan import Plan, build_plan
from .rules import RULES
from .solution import Solution

STRATEGIES: tuple[str, ...] = ("optimal", *RULES)

_RULE_TEXT = {
    "optimal": "optimal plan (most units, then least cost)",
    "priority": "priority rule (lower priority number first, then nearer)",
    "nearest": "nearest rule (nearer location first)",
    "fewest_shipments": "fewest-shipments rule (one location if possible, else fewest, nearer)",
}


def plan(
    instance: Instance,
    strategy: str = "optimal",
    budget_ms: float | None = None,
    *,
    explain_runner_ups: bool = True,
) -> Plan:
    """Return the plan of `instance` under `strategy`.

    `budget_ms` bounds the optimal search (None: no bound); when it runs out the plan is
    the best found, with ``proven`` false and a lower ``bound`` on the cost. The
    explanation's runner-ups are re-solved under small budgets of their own, cut short by
    `budget_ms`; ``elapsed_ms`` covers the whole call, explanation included. Raise
    `UnknownStrategy` for an unknown name (`jsonio.instance_from_json` is where a malformed
    instance is refused).
    """
    started = time.perf_counter()
    if strategy not in STRATEGIES:
        raise UnknownStrategy(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    if budget_ms is not None and budget_ms < 0:
        raise ValueError("budget_ms must not be negative")
    model = build_model(instance)
    deadline = None if budget_ms is None else started + budget_ms / 1000
    if strategy == "optimal":
        outcome = solve(model, deadline=deadline)
        solution, proven, bound = outcome.solution, outcome.proven, outcome.bound
    else:
        solution = RULES[strategy](model)
        proven, bound = False, _rule_bound(model, solution)
    explanation = explain(
        model,
        solution,
        strategy=strategy,
        rule=_RULE_TEXT[strategy],
        runner_ups=explain_runner_ups,
        deadline=deadline,
    )
    return build_plan(
        model,
        solution,
        strategy=strategy,
        proven=proven,
        bound=bound,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        explanation=explanation,
    )


def _rule_bound(model: Model, solution: Solution) -> float:
    """Return a cheap lower bound on the cost of any plan with the rule plan's units."""
    if solution.units == 0:
        return 0.0
    prices = sorted(
        (site.unit_cost, u, i) for site in model.sites for i, u in enumerate(site.capacity) if u
    )
    left = [item.demand for item in model.items]
    units, cost = solution.units, 0.0
    for price, u, i in prices:
        take = min(u, left[i], units)
        if take > 0:
            left[i] -= take
            units -= take
            cost += take * price
        if units == 0:
            break
    return cost + min(site.fixed for site in model.sites)
