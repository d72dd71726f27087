"""The plan returned to callers, in the contract's JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Model
from .solution import Solution


@dataclass(frozen=True, slots=True)
class Allocation:
    line: int
    location: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Unallocated:
    line: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[Allocation, ...]
    unallocated: tuple[Unallocated, ...]
    units: int
    shipments: int
    cost: float
    elapsed_ms: float
    proven: bool
    bound: float | None
    strategy: str
    explanation: dict = field(default_factory=dict)

    @property
    def locations(self) -> tuple[str, ...]:
        """Return the codes of the locations used, sorted."""
        return tuple(sorted({a.location for a in self.allocations}))

    def to_dict(self) -> dict:
        """Return the plan as the contract's JSON object."""
        out = {
            "allocations": [
                {"line": a.line, "location": a.location, "sku": a.sku, "quantity": a.quantity}
                for a in self.allocations
            ],
            "unallocated": [
                {"line": u.line, "sku": u.sku, "quantity": u.quantity} for u in self.unallocated
            ],
            "units": self.units,
            "shipments": self.shipments,
            "cost": round(self.cost, 6),
            "elapsed_ms": round(self.elapsed_ms, 3),
            "proven": self.proven,
        }
        if not self.proven and self.bound is not None:
            out["bound"] = round(self.bound, 6)
        out["strategy"] = self.strategy
        out["explanation"] = self.explanation
        return out


def build_plan(
    model: Model,
    solution: Solution,
    *,
    strategy: str,
    proven: bool,
    bound: float | None,
    elapsed_ms: float,
    explanation: dict,
) -> Plan:
    """Return the Plan of a solver solution: codes and SKUs instead of indices."""
    lines = model.instance.lines
    given = [0] * len(lines)
    allocations = []
    for line, site, quantity in solution.allocations:
        given[line] += quantity
        allocations.append(Allocation(line, model.sites[site].code, lines[line].sku, quantity))
    unallocated = tuple(
        Unallocated(line.index, line.sku, line.quantity - given[line.index])
        for line in lines
        if line.quantity > given[line.index]
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
