"""The entry points: `plan(instance, strategy, budget_ms)`, and `runner_ups` for a plan
chosen earlier."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from .errors import UnknownStrategy
from .explanation import explain, solved_runner_ups
from .instance import Instance
from .model import Model, build_model
from .optimal import solve
from .plan import Plan, RunnerUp, Wait, build_plan
from .rules import RULES
from .solution import Solution
from .waiting import Departures, combinations, departures, with_departures

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

    With incoming supply the optimal strategy may make shipments wait for it (the plan's
    ``waits``); the rules plan on the stock at hand.
    """
    started = time.perf_counter()
    deadline = _deadline(strategy, budget_ms, started)
    if strategy == "optimal":
        options = departures(instance)
        if options:
            return _plan_waiting(instance, options, started, deadline, explain_runner_ups)
    model = build_model(instance)
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


def runner_ups(
    instance: Instance,
    *,
    codes: Sequence[str],
    units: int,
    cost: float,
    strategy: str = "optimal",
    budget_ms: float | None = None,
) -> tuple[RunnerUp, ...]:
    """Return the explanation's runner-ups of a plan chosen earlier (the locations it used,
    its units and cost) over `instance`, the network as it is now: what `plan` adds to the
    explanation when `explain_runner_ups` is true, with the same budgets (each re-solve its
    own, all cut short by `budget_ms`). Incoming supply is not planned for here."""
    started = time.perf_counter()
    deadline = _deadline(strategy, budget_ms, started)
    chosen = Solution(allocations=(), units=units, cost=cost, codes=tuple(sorted(set(codes))))
    return solved_runner_ups(build_model(instance), chosen, strategy=strategy, deadline=deadline)


def _deadline(strategy: str, budget_ms: float | None, started: float) -> float | None:
    """Check the strategy and the budget; return when the budget runs out (None: never)."""
    if strategy not in STRATEGIES:
        raise UnknownStrategy(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    if budget_ms is not None and budget_ms < 0:
        raise ValueError("budget_ms must not be negative")
    return None if budget_ms is None else started + budget_ms / 1000


def _plan_waiting(
    instance: Instance,
    options: list[Departures],
    started: float,
    deadline: float | None,
    runner_ups: bool,
) -> Plan:
    """Return the optimal plan when shipments may wait for incoming units: the best of the
    ordinary optima over the combinations of departure days (sourcing.waiting says why)."""
    best: tuple[Solution, Model, dict[str, int]] | None = None
    best_now: tuple[Solution, bool] | None = None  # the best plan that waits for nothing
    best_wait: tuple[Solution, bool] | None = None  # the best plan that waits
    proven = True
    bounds: list[tuple[int, float]] = []  # (units, bound on their cost) of unproven ones
    for n, days in enumerate(combinations(options)):
        if n and deadline is not None and time.perf_counter() > deadline:
            proven = False
            bounds.append((-1, 0.0))  # combinations not solved: nothing is known of them
            break
        model = build_model(with_departures(instance, options, days))
        outcome = solve(model, deadline=deadline)
        solution = outcome.solution
        code_of = {option.index: instance.locations[option.index].code for option in options}
        waits = {
            code_of[option.index]: day
            for option, day in zip(options, days, strict=True)
            if day and code_of[option.index] in solution.codes
        }
        if best is None or solution.beats(best[0]):
            best = (solution, model, waits)
        kind = "wait" if waits else "now"
        held = best_wait if waits else best_now
        if held is None or solution.beats(held[0]):
            if kind == "wait":
                best_wait = (solution, outcome.proven)
            else:
                best_now = (solution, outcome.proven)
        if not outcome.proven:
            proven = False
            bounds.append((solution.units, 0.0 if outcome.bound is None else outcome.bound))
    assert best is not None
    solution, model, waits = best
    bound = None
    if not proven:
        # An unproven combination's bound holds for plans with as many units as it found:
        # one that found fewer than the plan (or was not solved) bounds nothing above 0.
        bound = min(
            solution.cost,
            *(value if units == solution.units else 0.0 for units, value in bounds),
        )
    per_day = instance.policy.wait_cost_per_day
    other = best_now if waits else best_wait
    explanation = explain(
        model,
        solution,
        strategy="optimal",
        rule=_RULE_TEXT["optimal"],
        runner_ups=runner_ups,
        deadline=deadline,
        waits={code: (day, per_day * day) for code, day in waits.items()},
        others=()
        if other is None
        else (
            (
                "without waiting for incoming units" if waits else "waiting for incoming units",
                other[0],
                other[1],
            ),
        ),
    )
    result = build_plan(
        model,
        solution,
        strategy="optimal",
        proven=proven,
        bound=bound,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        explanation=explanation,
    )
    return replace(result, waits=tuple(Wait(code, day) for code, day in sorted(waits.items())))


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
