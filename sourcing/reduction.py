"""Drop locations that an optimal plan never needs (dominance).

Location B is dominated by A when A holds the order's whole demand of every
SKU that B could give, and A is no dearer in fixed cost nor in unit cost. In a
plan that uses B, B's units can then move to A: if A was unused, the plan gets
cheaper (or, at equal cost, gets A's smaller code); if A was used, a shipment
and its fixed cost disappear. Either way the plan improves, so B can go.
"""

from __future__ import annotations

from .model import Model

# Differences below this are too small to call one location cheaper than another.
MARGIN = 1e-7


def dominated_sites(model: Model) -> list[int]:
    """Return the indices (into model.sites) of the locations that another dominates."""
    demand = [item.demand for item in model.items]
    sites = model.sites
    fixed = [site.fixed for site in sites]
    unit = [site.unit_cost for site in sites]
    codes = [site.code for site in sites]
    needs = []
    held = []
    # per SKU, the locations holding its whole demand, least fixed cost first, as
    # (fixed, unit cost, SKUs held in full, code, index)
    full_holders: list[list[tuple[float, float, int, str, int]]] = [[] for _ in demand]
    for a, site in enumerate(sites):
        full_mask = need = 0
        items = []
        for i, u in enumerate(site.capacity):
            if u:
                items.append(i)
                need |= 1 << i
                if u >= demand[i]:
                    full_mask |= 1 << i
        entry = (fixed[a], unit[a], full_mask, codes[a], a)
        for i in items:
            if full_mask >> i & 1:
                full_holders[i].append(entry)
        needs.append(need)
        held.append(items)
    for group in full_holders:
        group.sort()
    sizes = [len(group) for group in full_holders]
    out = []
    for b, items in enumerate(held):
        # Candidates for A: the locations holding in full the SKU of B that fewest hold in full
        rarest = full_holders[min(items, key=sizes.__getitem__)]
        if len(rarest) < 2 and (not rarest or rarest[0][4] == b):
            continue
        need = needs[b]
        fb, ub, cb = fixed[b], unit[b], codes[b]
        for fa, ua, mask, ca, a in rarest:
            if fa > fb:
                break
            if ua > ub or mask & need != need or a == b:
                continue
            if fa < fb - MARGIN or ua < ub - MARGIN or ca < cb:
                out.append(b)
                break
    return out
