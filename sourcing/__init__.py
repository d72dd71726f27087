"""The sourcing engine: which stock locations fulfil an order (no Django inside).

Use `plan(instance, strategy="optimal", budget_ms=None)`; the instance and the
plan follow shared/sourcing/README.md. See docs/sourcing.md for the algorithm.
"""

from .engine import STRATEGIES, plan
from .errors import InvalidInstance, UnknownStrategy
from .plan import Allocation, Plan, Unallocated

__all__ = [
    "STRATEGIES",
    "Allocation",
    "InvalidInstance",
    "Plan",
    "Unallocated",
    "UnknownStrategy",
    "plan",
]
