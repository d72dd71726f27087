"""Explain a plan to a person: what each chosen location costs, and what else would.

The explanation carries the cost parts of every location used, and a few
runner-ups: the best plan that avoids each chosen location (solved again
under a small time budget of its own) and the best single-location plan.
`text` renders the same as lines for a console. `runner_ups` solves the runner-ups
alone, for a plan chosen earlier: an order's allocation is explained without them, and
its page solves them when someone opens it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .model import Model
from .optimal import solve
from .plan import CostPart, Explanation, RunnerUp
from .solution import Solution

# Runner-ups are re-solved for at most this many chosen locations, each with this budget.
MAX_AVOIDED = 3
AVOID_BUDGET_MS = 5.0


def explain(
    model: Model,
    solution: Solution,
    *,
    strategy: str,
    rule: str,
    runner_ups: bool = True,
    deadline: float | None = None,
    waits: Mapping[str, tuple[int, float]] | None = None,
    others: Sequence[tuple[str, Solution, bool]] = (),
) -> Explanation:
    """Return the explanation of `solution`.

    Each runner-up re-solve gets AVOID_BUDGET_MS, cut short by `deadline` (the caller's
    budget); none is tried once the deadline has passed. `waits` gives the (days, cost) of
    each chosen location whose shipment waits for incoming units (its model's fixed cost
    includes that cost); `others` are (label, plan, proven) runner-ups known already.
    """
    parts = location_parts(model, solution, waits or {})
    alternatives = [
        _alternative(label, other, solution, proven=proven) for label, other, proven in others
    ]
    if runner_ups:
        alternatives.extend(
            solved_runner_ups(model, solution, strategy=strategy, deadline=deadline)
        )
    return Explanation(
        rule=rule,
        locations=parts,
        alternatives=tuple(alternatives),
        text=_text(solution, rule, parts, alternatives),
    )


def solved_runner_ups(
    model: Model, solution: Solution, *, strategy: str, deadline: float | None
) -> tuple[RunnerUp, ...]:
    """Return the runner-ups of `solution` over `model`: under the optimal strategy the best
    plan avoiding each of the first MAX_AVOIDED chosen locations, then the best single
    location when it is not the plan itself. Only the plan's codes, units and cost are read,
    so a plan chosen earlier on another network may be explained against this one."""
    alternatives = []
    if strategy == "optimal":
        for code in solution.codes[:MAX_AVOIDED]:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            alternatives.append(_without(model, solution, code, deadline))
    single = _best_single(model)
    if single is not None and single.codes != solution.codes:
        alternatives.append(
            _alternative(f"best single location ({single.codes[0]})", single, solution, proven=True)
        )
    return tuple(alternatives)


def location_parts(
    model: Model, solution: Solution, waits: Mapping[str, tuple[int, float]] | None = None
) -> tuple[CostPart, ...]:
    """Return per used location: units and the cost parts that add up to the plan's cost
    (`waits`: days and cost of the shipments that wait, included in their shipment cost)."""
    waits = waits or {}
    units: dict[int, int] = {}
    for _, s, q in solution.allocations:
        units[s] = units.get(s, 0) + q
    share = model.split_penalty * (len(units) - 1) / len(units) if units else 0.0
    parts = []
    for s in sorted(units, key=lambda s: model.sites[s].code):
        site = model.sites[s]
        distance_cost = site.location.cost_per_km * site.km
        units_cost = site.unit_cost * units[s]
        days, wait_cost = waits.get(site.code, (0, 0.0))
        parts.append(
            CostPart(
                location=site.code,
                units=units[s],
                shipment_cost=round(site.location.shipment_cost - wait_cost, 6),
                km=round(site.km, 3),
                distance_cost=round(distance_cost, 6),
                units_cost=round(units_cost, 6),
                split_penalty_share=round(share, 6),
                total=round(site.location.shipment_cost + distance_cost + units_cost + share, 6),
                wait_days=days,
                wait_cost=round(wait_cost, 6),
            )
        )
    return tuple(parts)


def _without(model: Model, solution: Solution, code: str, deadline: float | None) -> RunnerUp:
    """Return the best plan (found within a small budget) that does not use `code`."""
    until = time.perf_counter() + AVOID_BUDGET_MS / 1000
    if deadline is not None:
        until = min(until, deadline)
    kept = tuple(site for site in model.sites if site.code != code)
    reduced = replace(model, sites=kept, max_shipments=min(model.max_shipments, len(kept)))
    outcome = solve(reduced, deadline=until)
    return _alternative(f"without {code}", outcome.solution, solution, proven=outcome.proven)


def _best_single(model: Model) -> Solution | None:
    """Return the best plan from one location: most units, then cheapest (units and cost only)."""
    if model.max_shipments < 1:
        return None
    best = None
    for site in model.sites:
        units = sum(site.capacity)  # capacities already respect the split rule
        candidate = Solution(
            allocations=(),
            units=units,
            cost=site.fixed + site.unit_cost * units,
            codes=(site.code,),
        )
        if candidate.beats(best):
            best = candidate
    return best


def _alternative(label: str, other: Solution, chosen: Solution, *, proven: bool) -> RunnerUp:
    return RunnerUp(
        label=label,
        units=other.units,
        cost=round(other.cost, 6),
        shipments=other.shipments,
        locations=other.codes,
        extra_cost=round(other.cost - chosen.cost, 6),
        units_lost=chosen.units - other.units,
        proven=proven,
    )


def _text(
    solution: Solution,
    rule: str,
    parts: Sequence[CostPart],
    alternatives: Sequence[RunnerUp],
) -> tuple[str, ...]:
    lines = [
        f"{rule}: {solution.units} units from {solution.shipments} "
        f"location(s), cost {solution.cost:.2f}"
    ]
    for part in parts:
        waiting = (
            f" + waits {part.wait_days} day(s) for incoming units {part.wait_cost:.2f}"
            if part.wait_days
            else ""
        )
        lines.append(
            f"  {part.location}: {part.units} units = shipment {part.shipment_cost:.2f}"
            f" + {part.km:.0f} km {part.distance_cost:.2f}"
            f" + units {part.units_cost:.2f}{waiting}"
            f" + split share {part.split_penalty_share:.2f} = {part.total:.2f}"
        )
    for alt in alternatives:
        if alt.units < solution.units:
            verdict = f"{alt.units_lost} unit(s) fewer"
        else:
            verdict = f"{alt.extra_cost:+.2f}"
        where = ", ".join(alt.locations) or "nothing"
        proven = "" if alt.proven else " (best found in its budget)"
        lines.append(
            f"  {alt.label}: {alt.units} units, cost {alt.cost:.2f} ({verdict})"
            f" from {where}{proven}"
        )
    return tuple(lines)
