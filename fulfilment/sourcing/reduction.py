"""Drop locations that an optimal plan never needs (dominance).

Location B is dominated by A when A holds the order's whole demand of every
SKU that B could give, and A is no dearer in fixed cost nor in unit cost. In a
plan that uses B, B's units can then move to A: if A was unused, the plan gets
cheaper (or, at equal cost, gets A's smaller code); if A was used, a shipment
and its fixed cost disappear. Either way the plan improves, so B can go.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Model

# Differences below this are too small to call one location cheaper than another.
MARGIN = 1e-7


def dominated_sites(model: Model) -> list[int]:
    """Return the indices (into model.sites) of the locations that another dominates."""
    demand = [item.demand for item in model.items]
    full = []
    holds = []
    for site in model.sites:
        full_mask = held_mask = 0
        for i, u in enumerate(site.capacity):
            if u:
                held_mask |= 1 << i
                if u >= demand[i]:
                    full_mask |= 1 << i
        full.append(full_mask)
        holds.append(held_mask)
    # Candidates for B: the locations holding in full the SKU of B that fewest hold in full.
    full_holders: list[list[int]] = [[] for _ in demand]
    for a, mask in enumerate(full):
        for i in range(len(demand)):
            if mask >> i & 1:
                full_holders[i].append(a)
    sites: Sequence = model.sites
    out = []
    for b, site in enumerate(sites):
        need = holds[b]
        rarest = min(
            (full_holders[i] for i in range(len(demand)) if need >> i & 1), key=len, default=[]
        )
        for a in rarest:
            if a != b and full[a] & need == need and _cheaper(sites[a], site):
                out.append(b)
                break
    return out


def _cheaper(a, b) -> bool:
    if a.fixed > b.fixed or a.unit_cost > b.unit_cost:
        return False
    if a.fixed < b.fixed - MARGIN or a.unit_cost < b.unit_cost - MARGIN:
        return True
    return a.code < b.code
