"""The plan returned to callers, its explanation, and how a solver solution becomes one."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Model
from .solution import Solution


@dataclass(frozen=True, slots=True)
class Allocation:
    line: int  # position of the line in the instance
    location: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Unallocated:
    line: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CostPart:
    """What one chosen location adds to the plan's cost; the totals add up to it."""

    location: str
    units: int
    shipment_cost: float
    km: float
    distance_cost: float
    units_cost: float
    split_penalty_share: float
    total: float
    wait_days: int = 0  # days the shipment waits for incoming units (0: it leaves now)
    wait_cost: float = 0.0  # what that waiting costs, in `total`


@dataclass(frozen=True, slots=True)
class RunnerUp:
    """A plan the engine weighed against the chosen one, and what it would change."""

    label: str
    units: int
    cost: float
    shipments: int
    locations: tuple[str, ...]
    extra_cost: float
    units_lost: int
    proven: bool


@dataclass(frozen=True, slots=True)
class Wait:
    """A shipment that leaves its location `days` days late, with incoming units."""

    location: str
    days: int


@dataclass(frozen=True, slots=True)
class Explanation:
    rule: str
    locations: tuple[CostPart, ...]
    alternatives: tuple[RunnerUp, ...]
    text: tuple[str, ...]  # the same, as lines for a console


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[Allocation, ...]
    unallocated: tuple[Unallocated, ...]
    units: int
    shipments: int
    cost: float
    elapsed_ms: float
    proven: bool
    bound: float | None  # a lower bound on the cost when not proven
    strategy: str
    explanation: Explanation
    waits: tuple[Wait, ...] = ()  # only with incoming supply: the shipments that wait

    @property
    def locations(self) -> tuple[str, ...]:
        """Return the codes of the locations used, sorted."""
        return tuple(sorted({a.location for a in self.allocations}))


def build_plan(
    model: Model,
    solution: Solution,
    *,
    strategy: str,
    proven: bool,
    bound: float | None,
    elapsed_ms: float,
    explanation: Explanation,
) -> Plan:
    """Return the Plan of a solver solution: codes and SKUs instead of indices."""
    lines = model.instance.lines
    given = [0] * len(lines)
    allocations = []
    for line, site, quantity in solution.allocations:
        given[line] += quantity
        allocations.append(Allocation(line, model.sites[site].code, lines[line].sku, quantity))
    unallocated = tuple(
        Unallocated(index, line.sku, line.quantity - given[index])
        for index, line in enumerate(lines)
        if line.quantity > given[index]
    )
    return Plan(
        allocations=tuple(allocations),
        unallocated=unallocated,
        units=solution.units,
        shipments=solution.shipments,
        cost=solution.cost,
        elapsed_ms=elapsed_ms,
        proven=proven,
        bound=bound,
        strategy=strategy,
        explanation=explanation,
    )
