"""Fill one SKU's lines from a few locations when lines may not be split.

Lines are whole: each goes to one location whose remaining stock of the SKU
holds it, or stays unallocated. Per SKU there are only a handful of lines and
of candidate locations, so a small exact search is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .model import TOLERANCE

# (line index, quantity) per line; (unit cost, stock, site) per location
LineQty = tuple[int, int]
Bin = tuple[float, int, int]
# (units, units cost, ((line, site), ...)) of a packing
Packing = tuple[int, float, tuple[tuple[int, int], ...]]


def pack_lines(lines: Sequence[LineQty], bins: Sequence[Bin]) -> Packing:
    """Return (units, units cost, ((line, site), ...)): most units first, then cheapest.

    `bins` must be sorted by unit cost, then by site, so that ties go to the first site.
    """
    order = sorted(lines, key=lambda pair: (-pair[1], pair[0]))
    quantities = [q for _, q in order]
    count = len(quantities)
    suffix = [0] * (count + 1)
    for i in range(count - 1, -1, -1):
        suffix[i] = suffix[i + 1] + quantities[i]
    total = suffix[0]
    costs = [b[0] for b in bins]
    residual = [min(b[1], total) for b in bins]
    nbins = len(bins)
    cheapest = min(costs, default=0.0)
    choice = [nbins] * count
    # [units, cost, choice per line]: one list the recursion updates in place
    best: list[Any] = [-1, float("inf"), ()]

    def search(i: int, units: int, cost: float, previous: int) -> None:
        reach = units + suffix[i]
        if reach < best[0] or (
            reach == best[0] and cost + cheapest * suffix[i] >= best[1] - TOLERANCE
        ):
            return
        if i == count:
            best[0], best[1] = units, cost
            best[2] = tuple(choice)
            return
        q = quantities[i]
        # Equal lines are interchangeable: give them locations in non-decreasing order.
        start = previous if i and quantities[i - 1] == q else 0
        tried = set()
        for b in range(start, nbins):
            left = residual[b]
            if left < q or (costs[b], left) in tried:
                continue
            tried.add((costs[b], left))
            residual[b] = left - q
            choice[i] = b
            search(i + 1, units + q, cost + costs[b] * q, b)
            residual[b] = left
        choice[i] = nbins
        search(i + 1, units, cost, nbins)

    search(0, 0, 0.0, 0)
    assignment = tuple((order[i][0], bins[b][2]) for i, b in enumerate(best[2]) if b < nbins)
    return best[0], best[1], assignment


def max_packable(quantities: Sequence[int], stocks: Sequence[int]) -> int:
    """Return the most units of whole lines that fit into locations with these stocks."""
    total = sum(quantities)
    if total == 0 or not stocks:
        return 0
    if max(stocks) >= total:
        return total
    smallest = min(quantities)
    useful = tuple(sorted(s for s in stocks if s >= smallest))
    return _max_packable(tuple(sorted(quantities, reverse=True)), useful)


@lru_cache(maxsize=4096)
def _max_packable(quantities: tuple[int, ...], stocks: tuple[int, ...]) -> int:
    if not quantities or not stocks:
        return 0
    q, rest = quantities[0], quantities[1:]
    ceiling = q + sum(rest)
    best = _max_packable(rest, stocks)  # the largest line left out
    for value in sorted(set(stocks), reverse=True):
        if value < q or best == ceiling:
            break
        i = stocks.index(value)
        placed = tuple(sorted(stocks[:i] + (value - q,) + stocks[i + 1 :]))
        best = max(best, q + _max_packable(rest, placed))
    return best
