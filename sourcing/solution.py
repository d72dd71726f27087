"""A plan in solver terms, its cost, and the order in which plans are preferred."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import TOLERANCE, Model


@dataclass(frozen=True, slots=True)
class Solution:
    """Allocations are (line, site, quantity), site indexing model.sites."""

    allocations: tuple[tuple[int, int, int], ...]
    units: int
    cost: float
    codes: tuple[str, ...]  # sorted codes of the locations used

    @property
    def shipments(self) -> int:
        return len(self.codes)

    def beats(self, other: Solution | None) -> bool:
        """Return True when this plan is preferred: more units, less cost, fewer shipments,
        then the smaller sorted list of location codes (so exact ties are deterministic)."""
        if other is None:
            return True
        if self.units != other.units:
            return self.units > other.units
        if self.cost < other.cost - TOLERANCE:
            return True
        if self.cost > other.cost + TOLERANCE:
            return False
        return (len(self.codes), self.codes) < (len(other.codes), other.codes)


EMPTY = Solution(allocations=(), units=0, cost=0.0, codes=())


def make_solution(model: Model, allocations: Iterable[tuple[int, int, int]]) -> Solution:
    """Return the solution of these allocations with its cost under the contract's formula."""
    merged: dict[tuple[int, int], int] = {}
    for line, site, quantity in allocations:
        if quantity > 0:
            merged[line, site] = merged.get((line, site), 0) + quantity
    sites = model.sites
    used = {site for _, site in merged}
    cost = sum(sites[s].fixed for s in used)
    cost += sum(sites[s].unit_cost * q for (_, s), q in merged.items())
    if used:
        cost += model.split_penalty * (len(used) - 1)
    ordered = sorted(merged.items(), key=lambda pair: (pair[0][0], sites[pair[0][1]].code))
    return Solution(
        allocations=tuple((line, s, q) for (line, s), q in ordered),
        units=sum(merged.values()),
        cost=cost,
        codes=tuple(sorted(sites[s].code for s in used)),
    )
