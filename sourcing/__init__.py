"""The sourcing engine: which stock locations fulfil an order (no Django inside).

Build an `Instance` (or read one with `jsonio.instance_from_json`) and call
`plan(instance, strategy="optimal", budget_ms=None)`; it returns a `Plan`, which
`jsonio.plan_to_json` writes in the contract's shape. See docs/sourcing.md for the
contract and the algorithm.
"""

from .engine import STRATEGIES, plan, runner_ups
from .errors import InvalidInstance, InvalidJson, InvalidPlan, UnknownStrategy
from .instance import Incoming, Instance, Line, Location, Policy
from .plan import Allocation, CostPart, Explanation, Plan, RunnerUp, Unallocated, Wait

__all__ = [
    "STRATEGIES",
    "Allocation",
    "CostPart",
    "Explanation",
    "Incoming",
    "Instance",
    "InvalidInstance",
    "InvalidJson",
    "InvalidPlan",
    "Line",
    "Location",
    "Plan",
    "Policy",
    "RunnerUp",
    "Unallocated",
    "UnknownStrategy",
    "Wait",
    "plan",
    "runner_ups",
]
