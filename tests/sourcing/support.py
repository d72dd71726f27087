"""Instance files, and the engine and the checker driven through the JSON edge.

The tests write instances as the contract's JSON (as the command line reads them); these
helpers read them with `instance_from_json`, plan, and hand back the plan's JSON, so the
assertions read the fields the contract names.
"""

import json
from pathlib import Path

from sourcing import plan
from sourcing.check import plan_check, plan_cost
from sourcing.jsonio import instance_from_json, optimum_from_json, plan_from_json, plan_to_json
from sourcing.plan import Allocation, Explanation, Plan, Unallocated

INSTANCES = Path(__file__).resolve().parent / "instances"
NO_EXPLANATION = Explanation(rule="", locations=(), alternatives=(), text=())


def read(name: str) -> dict:
    """Return the JSON of the instance file `name` (in tests/sourcing/instances)."""
    return json.loads((INSTANCES / name).read_text())


def solve(data: dict, strategy: str = "optimal", **kwargs) -> dict:
    """Return the JSON plan of the instance JSON `data`."""
    return plan_to_json(plan(instance_from_json(data), strategy, **kwargs))


def problems(data: dict, result: dict, *, optimal: bool = False) -> list[str]:
    """Return what the checker finds wrong with the JSON plan `result` of `data` (against
    the recorded optimum too, when `optimal`)."""
    optimum = optimum_from_json(data) if optimal else None
    return plan_check(instance_from_json(data), plan_from_json(result), optimum)


def cost_of(data: dict, allocations: list[dict]) -> tuple[float, int]:
    """Return (cost, shipments) of JSON allocations, as the checker computes them."""
    typed = _allocations(allocations)
    return plan_cost(instance_from_json(data), typed), len({a.location for a in typed})


def feasibility_problems(data: dict, allocations: list[dict], unallocated: list[dict]):
    """Return the checker's problems with bare allocations (their figures taken as stated)."""
    instance = instance_from_json(data)
    typed = _allocations(allocations)
    candidate = Plan(
        allocations=typed,
        unallocated=tuple(Unallocated(u["line"], u["sku"], u["quantity"]) for u in unallocated),
        units=sum(a.quantity for a in typed),
        shipments=len({a.location for a in typed}),
        cost=plan_cost(instance, typed),
        elapsed_ms=0.0,
        proven=False,
        bound=None,
        strategy="",
        explanation=NO_EXPLANATION,
    )
    return plan_check(instance, candidate)


def _allocations(allocations: list[dict]) -> tuple[Allocation, ...]:
    return tuple(Allocation(a["line"], a["location"], a["sku"], a["quantity"]) for a in allocations)
