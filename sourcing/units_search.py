"""Phase one: the most units any plan can allocate (a search only when a shipment cap binds).

Without a cap every SKU gets its most. With one, it is a max-coverage problem:
a greedy plan first, then a branch and bound over sets of at most `cap` sites,
taking sites by decreasing marginal gain (child j excludes children 1..j-1). A
child is cut when the set's units plus the `slots` largest gains from it on
cannot beat the best found, valid because coverage is submodular (a site's gain
only shrinks as the set grows). So a gain of at most (best - units) // slots
never leads anywhere: such gains are not even computed (they count as that much
in the windows), and the last slot only scans sites, by decreasing units, while
they could beat the best on their own.
"""

from __future__ import annotations

import heapq

from .selection import Selection


def max_units(sel: Selection) -> tuple[int, tuple[int, ...]]:
    """Return (most units, a set reaching them); the set is empty when no cap binds."""
    ceiling = sum(sel.most)
    if sel.cap >= sel.n:
        return ceiling, ()
    # greedy: the largest marginal gain first
    best_units = 0
    best_set: tuple[int, ...] = ()
    fixed, rank = sel.fixed, sel.rank
    while len(sel.chosen) < sel.cap:
        found = gains(sel)
        if not found:
            break
        s = max(found, key=lambda t: (found[t], -fixed[t], -rank[t]))
        sel.include(s)
        if sel.units > best_units:
            best_units, best_set = sel.units, tuple(sel.chosen)
    sel.reset()
    if best_units < ceiling:
        search = _UnitsSearch(sel, best_units, best_set, ceiling)
        try:
            hopeless(sel, best_units + 1)  # only sets with more units matter here
            search.descend()
        finally:
            sel.units_found = (search.best_units, search.best_set)
            sel.reset()
        best_units, best_set = search.best_units, search.best_set
    return best_units, best_set


def gains(sel: Selection) -> dict[int, int]:
    """Return each allowed site's upper bound on the units it adds to the chosen set."""
    acc = [0] * sel.n
    touched = []
    allowed, most, cover = sel.allowed, sel.most, sel.cover
    for i, held in enumerate(sel.holders):
        missing = most[i] - cover[i]
        if missing <= 0:
            continue
        for s, u in held:
            if allowed[s]:
                gain = acc[s]
                if not gain:
                    touched.append(s)
                acc[s] = gain + (u if u < missing else missing)
    return {s: acc[s] for s in touched}


def hopeless(sel: Selection, threshold: int) -> list[int]:
    """Forbid and return the allowed sites that cannot be in any set of at most `cap` sites
    reaching `threshold` units: their gain plus the best other gains falls short."""
    lost_all: list[int] = []
    while True:
        found = gains(sel)
        top = heapq.nlargest(sel.cap, found.values())
        if not top:
            top = [0]
        full, rest = sum(top), sum(top[:-1])
        last = top[-1]
        lost = [s for s, g in found.items() if (full if g >= last else g + rest) < threshold]
        allowed = sel.allowed
        lost.extend(s for s in range(sel.n) if allowed[s] and s not in found)
        if not lost:
            return lost_all
        for s in lost:
            sel.forbid(s)
        lost_all.extend(lost)


class _UnitsSearch:
    def __init__(self, sel: Selection, units: int, chosen: tuple[int, ...], ceiling: int):
        self.sel = sel
        self.best_units = units
        self.best_set = chosen
        self.ceiling = ceiling

    def descend(self) -> None:
        sel = self.sel
        sel.tick()
        units = sel.units
        if units > self.best_units:
            self.best_units = units
            self.best_set = tuple(sel.chosen)
        if self.best_units >= self.ceiling or len(sel.chosen) >= sel.cap:
            return
        slots = sel.cap - len(sel.chosen)
        fixed, rank = sel.fixed, sel.rank
        if slots == 1:
            # the last site: only those that beat the best on their own, largest gain first
            last = sel.gains_above(self.best_units - units, alone=True)
            last.sort(key=lambda pair: (-pair[0], fixed[pair[1]], rank[pair[1]]))
            for gain, s in last:
                if units + gain <= self.best_units:
                    break
                sel.include(s)
                self.descend()
                sel.remove(s)
                if self.best_units >= self.ceiling:
                    break
            return
        # A child with a gain of at most `low` cannot lead to more units than the best: the
        # window of `slots` gains from it on adds no more than slots * low. Only larger gains
        # are computed; the others count as `low` in the windows (never less than they are).
        low = (self.best_units - units) // slots
        found = sel.gains_above(low)
        order = sorted([(-g, fixed[s], rank[s], s) for g, s in found])
        ranked = [s for _, _, _, s in order]
        values = [-g for g, _, _, _ in order] + [low] * slots
        excluded = []
        window = sum(values[:slots])
        for j, s in enumerate(ranked):
            if units + window <= self.best_units:
                break
            sel.include(s)
            self.descend()
            sel.remove(s)
            sel.forbid(s)
            excluded.append(s)
            if self.best_units >= self.ceiling:
                break
            window += values[j + slots] - values[j]
        for s in excluded:
            sel.permit(s)
