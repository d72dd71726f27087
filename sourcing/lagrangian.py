"""Lagrangian prices per SKU: a lower bound as strong as the LP relaxation, cheaply.

Relax "each SKU gets at most its units" and "U units in all" with prices.
For prices `price[i]` the relaxed problem falls apart per location: opening
site s costs `reduced[s] = fixed[s] - sum_i cap[s][i] * max(0, price[i] - unit[s])`,
and the bound is

    sum_i price[i] * most[i] - slack * max(0, max(price)) - split_penalty
        + the `cap` most negative reduced costs

Any prices give a valid bound, so the search below only decides how strong it
is: a DUALOC-style ascent (raise each price to its next breakpoint in turn)
followed by a few subgradient steps aimed at the incumbent. The branch and
bound then uses the reduced costs for an O(1) bound per node and to drop every
location that could not be in a plan cheaper than the incumbent.
"""

from __future__ import annotations

import time
from bisect import insort
from collections.abc import Sequence
from dataclasses import dataclass

# (site, units, unit cost) of one SKU at one site
_Held = tuple[int, int, float]

EPSILON = 1e-12
INF = float("inf")
# A node bound kept up to date SKU by SKU stops the pass only this far (relative) above the
# limit: its sums run in another order than the full bound's, so they differ by float noise.
EARLY_MARGIN = 1e-7


@dataclass(frozen=True, slots=True)
class Prices:
    constant: float  # everything in the bound except the reduced costs
    reduced: list[float]  # per site
    bound: float  # the bound itself (constant + the `cap` most negative reduced costs)
    price: list[float]  # per SKU


def price_sites(
    *,
    fixed: Sequence[float],
    unit: Sequence[float],
    holders: Sequence[Sequence[tuple[int, int]]],
    most: Sequence[int],
    target: int,
    split_penalty: float,
    cap: int,
    upper: float,
    steps: int = 10,
    rounds: int = 1000,
    deadline: float | None = None,
) -> Prices:
    """Return prices whose bound is close to the LP bound; `upper` is a known plan's cost.

    `holders[i]` lists (site, units) of SKU i sorted by unit cost.

    Stop early when `deadline` (a perf_counter time) passes: any prices give a valid bound.
    """
    count = len(fixed)
    slack = sum(most) - target
    # (site, units, unit cost) per SKU, cheapest first; units capped at the SKU's most
    held = [
        [(s, u if u < m else m, unit[s]) for s, u in group]
        for m, group in zip(most, holders, strict=True)
    ]
    caps: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for i, group in enumerate(held):
        for s, u, _ in group:
            caps[s].append((i, u))
    price = [group[0][2] if group else 0.0 for group in held]
    reduced = list(fixed)
    _ascend(price, reduced, held, most, slack, rounds, deadline)
    best, best_price = -INF, price
    step, stalls = 1.0, 0
    for _ in range(steps):
        if deadline is not None and time.perf_counter() > deadline:
            break
        value, _ = _evaluate(price, reduced, most, slack, split_penalty, cap)
        if value > best + EPSILON:
            best, best_price, stalls = value, list(price), 0
        else:
            stalls += 1
            if stalls >= 3:
                step, stalls = step / 2, 0
        if upper - value <= EPSILON * max(1.0, abs(upper)):
            break
        gradient = _subgradient(price, reduced, caps, unit, most, slack, cap)
        norm = sum(g * g for g in gradient)
        if norm == 0:
            break
        move = step * (upper - value) / norm
        price = [p + move * g for p, g in zip(price, gradient, strict=True)]
        reduced = _reduced(price, fixed, held)
    reduced = _reduced(best_price, fixed, held)
    bound, constant = _evaluate(best_price, reduced, most, slack, split_penalty, cap)
    return Prices(constant=constant, reduced=reduced, bound=bound, price=best_price)


def refine(
    price: Sequence[float],
    reduced: Sequence[float],
    *,
    state: list[int],
    forced: Sequence[int],
    free: Sequence[int],
    unit: Sequence[float],
    holders: Sequence[Sequence[tuple[int, int]]],
    most: Sequence[int],
    split_penalty: float,
    ceilings: dict[int, float],
    limit: float = INF,
) -> tuple[float, list[float], list[float]]:
    """Return (bound, reduced cost per site, prices) for a node of the search, without a cap.

    `price` and `reduced` are the root prices and reduced costs. `state[s]` is 2 for the
    sites the node has opened (`forced`), 1 for those that may open (`free`), 0 for the
    others (their reduced costs in the result mean nothing). Start from the root prices, cap the
    price of each SKU the forced sites already cover at its dearest unit there
    (`ceilings`: more of it is worth no more), then maximise each price exactly in turn,
    once. `holders` must be capped at `most` and sorted by unit cost. The bound is
    infinite when the sites cannot supply some SKU's most.

    Any prices give a valid bound, so the bound is kept up to date SKU by SKU: once it
    passes `limit` (by more than float noise) the pass stops and returns it, the node
    being cut whatever the other SKUs' prices (the reduced costs are then partial).
    """
    price = list(price)
    reduced = list(reduced)
    for i, top in ceilings.items():
        level = price[i]
        if top < level:
            for s, u in holders[i]:
                own = unit[s]
                if own >= level:
                    break
                reduced[s] += u * (level - (own if own > top else top))
            price[i] = top
    early = limit < INF
    if early:
        stop = limit + EARLY_MARGIN * max(1.0, abs(limit))
        running = sum(p * m for p, m in zip(price, most, strict=True)) - split_penalty
        running += sum(reduced[s] for s in forced)
        for s in free:
            r = reduced[s]
            if r < 0:
                running += r
    for i, held in enumerate(holders):
        slope = most[i]
        if not slope:
            continue
        old = price[i]
        # A site's breakpoint (the price at which it would start to pay) is never below its
        # unit cost, and a site at or above both the old and the new price keeps its reduced
        # cost: holders are sorted by unit cost, so the scan stops at the first such site.
        points: list[tuple[float, int, int, float]] = []
        append = points.append
        level = INF  # the new price once the points seen supply the SKU's most
        rest_of_holders = len(held)
        for k, (s, u) in enumerate(held):
            own = unit[s]
            if own >= old:
                rest_of_holders = k
                break
            kind = state[s]
            if kind:
                rest = reduced[s] + u * (old - own)
                append((own if kind == 2 or rest <= 0 else own + rest / u, u, s, rest))
        points.sort()
        level = _level(points, slope)
        for s, u in held[rest_of_holders:]:
            own = unit[s]
            if own >= level:
                break
            kind = state[s]
            if kind:
                rest = reduced[s]
                insort(points, (own if kind == 2 or rest <= 0 else own + rest / u, u, s, rest))
                level = _level(points, slope)
        if level == INF:
            return INF, reduced, price
        price[i] = level
        if early:
            running += (level - old) * slope
            for _, u, s, rest in points:
                own = unit[s]
                before = reduced[s]
                after = reduced[s] = rest - u * (level - own) if level > own else rest
                if state[s] == 2:
                    running += after - before
                else:
                    running += (after if after < 0 else 0.0) - (before if before < 0 else 0.0)
            if running > stop:
                return running, reduced, price
            continue
        for _, u, s, rest in points:
            own = unit[s]
            reduced[s] = rest - u * (level - own) if level > own else rest
    bound = sum(p * m for p, m in zip(price, most, strict=True)) - split_penalty
    bound += sum(reduced[s] for s in forced)
    for s in free:
        r = reduced[s]
        if r < 0:
            bound += r
    return bound, reduced, price


def _level(points: Sequence[tuple[float, int, int, float]], slope: int) -> float:
    """Return the breakpoint at which the sorted `points` supply `slope` units (INF: never)."""
    for start, u, _, _ in points:
        slope -= u
        if slope <= 0:
            return start
    return INF


def _reduced(
    price: Sequence[float], fixed: Sequence[float], held: Sequence[Sequence[_Held]]
) -> list[float]:
    """Return the reduced cost of every site: `held[i]` is sorted by unit cost, so the scan
    of a SKU stops at the first site whose unit cost reaches the SKU's price."""
    out = list(fixed)
    for level, group in zip(price, held, strict=True):
        for s, u, own in group:
            if own >= level:
                break
            out[s] -= u * (level - own)
    return out


def _evaluate(
    price: Sequence[float],
    reduced: Sequence[float],
    most: Sequence[int],
    slack: int,
    split_penalty: float,
    cap: int,
) -> tuple[float, float]:
    constant = sum(p * m for p, m in zip(price, most, strict=True)) - split_penalty
    if slack:
        constant -= slack * max(0.0, max(price))
    negative = [r for r in reduced if r < 0]
    if len(negative) > cap:
        negative = sorted(negative)[:cap]
    return constant + sum(negative), constant


def _subgradient(
    price: list[float],
    reduced: Sequence[float],
    caps: Sequence[Sequence[tuple[int, int]]],
    unit: Sequence[float],
    most: Sequence[int],
    slack: int,
    cap: int,
) -> list[float]:
    gradient = [float(m) for m in most]
    opened = [(r, s) for s, r in enumerate(reduced) if r < 0]
    if len(opened) > cap:
        opened = sorted(opened)[:cap]
    for _, s in opened:
        own = unit[s]
        for i, u in caps[s]:
            if price[i] > own:
                gradient[i] -= u
    if slack:
        top = max(price)
        if top > 0:
            gradient[price.index(top)] -= slack
    return gradient


def _ascend(
    price: list[float],
    reduced: list[float],
    held: Sequence[Sequence[_Held]],
    most: Sequence[int],
    slack: int,
    rounds: int,
    deadline: float | None,
) -> None:
    """Raise prices one breakpoint at a time, round robin, while the bound grows (DUALOC).

    `held[i]` lists (site, units, unit cost) sorted by unit cost: the scan of a SKU stops at
    the first site dearer than its price (the nearest breakpoint above the price is then
    known), and the update stops at the first site no cheaper than the new price. Reduced
    costs only fall during the ascent, so a SKU whose tight sites already supply its most
    (or that has no breakpoint left) stays so: it leaves the round robin, unless a slack
    ties the prices together.
    """
    active = [i for i, group in enumerate(held) if group]
    while active and rounds > 0:
        rounds -= 1
        if deadline is not None and time.perf_counter() > deadline:
            return
        moved = False
        still = []
        for i in active:
            level = price[i]
            top = level + EPSILON
            need = most[i]
            used, following = 0, INF
            for s, u, own in held[i]:
                if own < top:
                    r = reduced[s]
                    if r <= EPSILON:
                        used += u
                    else:
                        limit = level + r / u
                        if limit < following:
                            following = limit
                else:
                    if own < following:
                        following = own
                    break
            if slack:
                still.append(i)
                others = max((price[j] for j in active if j != i), default=-INF)
                if level >= others - EPSILON:
                    used += slack
                elif others < following:
                    following = others
            if used >= need or following == INF:
                continue
            if not slack:
                still.append(i)
            for s, u, own in held[i]:
                if own >= following:
                    break
                reduced[s] -= u * (following - (level if level > own else own))
            price[i] = following
            moved = True
        if not moved:
            return
        active = still
