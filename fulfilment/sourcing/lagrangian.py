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
from collections.abc import Sequence
from dataclasses import dataclass

EPSILON = 1e-12


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

    Stop early when `deadline` (a perf_counter time) passes: any prices give a valid bound.
    """
    count = len(fixed)
    slack = sum(most) - target
    holders = [[(s, min(u, most[i])) for s, u in held] for i, held in enumerate(holders)]
    caps: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for i, held in enumerate(holders):
        for s, u in held:
            caps[s].append((i, u))
    price = [min((unit[s] for s, _ in held), default=0.0) for held in holders]
    reduced = list(fixed)
    _ascend(price, reduced, holders, unit, most, slack, rounds, deadline)
    best, best_price = -float("inf"), price
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
        reduced = _reduced(price, fixed, unit, caps)
    reduced = _reduced(best_price, fixed, unit, caps)
    bound, constant = _evaluate(best_price, reduced, most, slack, split_penalty, cap)
    return Prices(constant=constant, reduced=reduced, bound=bound, price=best_price)


def refine(
    price: Sequence[float],
    *,
    forced: Sequence[int],
    free: Sequence[int],
    fixed: Sequence[float],
    unit: Sequence[float],
    caps: Sequence[Sequence[tuple[int, int]]],
    holders: Sequence[Sequence[tuple[int, int]]],
    most: Sequence[int],
    split_penalty: float,
    ceilings: dict[int, float],
) -> tuple[float, dict[int, float]]:
    """Return (bound, reduced cost per free site) for a node of the search, without a cap.

    `forced` sites are open, `free` ones may open. Start from the root prices, cap the
    price of each SKU the forced sites already cover at its dearest unit there (`ceilings`:
    more of it is worth no more), then maximise each price exactly in turn, once. `caps` and
    `holders` must already be capped at `most`. The bound is infinite when the sites cannot
    supply some SKU's most.
    """
    price = list(price)
    for i, top in ceilings.items():
        if top < price[i]:
            price[i] = top
    reduced: dict[int, float] = {}
    for s in (*forced, *free):
        value, own = fixed[s], unit[s]
        for i, u in caps[s]:
            if price[i] > own:
                value -= u * (price[i] - own)
        reduced[s] = value
    opened = set(forced)
    for i, held in enumerate(holders):
        if not most[i]:
            continue
        level, points = price[i], []
        for s, u in held:
            if s in reduced:
                own = unit[s]
                rest = reduced[s] + (u * (level - own) if level > own else 0.0)
                start = own if s in opened or rest <= 0 else own + rest / u
                points.append((start, u, s, rest))
        points.sort()
        slope, level = most[i], -float("inf")
        for start, u, _, _ in points:
            level, slope = start, slope - u
            if slope <= 0:
                break
        if slope > 0:
            return float("inf"), reduced
        price[i] = level
        for _, u, s, rest in points:
            own = unit[s]
            reduced[s] = rest - (u * (level - own) if level > own else 0.0)
    bound = sum(p * m for p, m in zip(price, most, strict=True)) - split_penalty
    bound += sum(reduced[s] for s in forced)
    bound += sum(r for s in free if (r := reduced[s]) < 0)
    return bound, {s: reduced[s] for s in free}


def _reduced(price, fixed, unit, caps) -> list[float]:
    out = []
    for s, held in enumerate(caps):
        value, own = fixed[s], unit[s]
        for i, u in held:
            gap = price[i] - own
            if gap > 0:
                value -= u * gap
        out.append(value)
    return out


def _evaluate(price, reduced, most, slack, split_penalty, cap) -> tuple[float, float]:
    constant = sum(p * m for p, m in zip(price, most, strict=True)) - split_penalty
    if slack:
        constant -= slack * max(0.0, max(price))
    negative = sorted(r for r in reduced if r < 0)[:cap]
    return constant + sum(negative), constant


def _subgradient(price, reduced, caps, unit, most, slack, cap) -> list[float]:
    gradient = [float(m) for m in most]
    opened = sorted((r, s) for s, r in enumerate(reduced) if r < 0)[:cap]
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


def _ascend(price, reduced, holders, unit, most, slack, rounds, deadline) -> None:
    """Raise prices one breakpoint at a time, round robin, while the bound grows (DUALOC)."""
    active = [i for i, held in enumerate(holders) if held]
    moved = True
    while moved and rounds > 0:
        rounds -= 1
        if deadline is not None and time.perf_counter() > deadline:
            return
        moved = False
        for i in active:
            level = price[i]
            used, following = 0, float("inf")
            for s, u in holders[i]:
                own = unit[s]
                if own < level + EPSILON:
                    if reduced[s] <= EPSILON:
                        used += u
                    else:
                        limit = level + reduced[s] / u
                        if limit < following:
                            following = limit
                elif own < following:
                    following = own
            if slack:
                others = max((price[j] for j in active if j != i), default=-float("inf"))
                if level >= others - EPSILON:
                    used += slack
                elif others < following:
                    following = others
            if used >= most[i] or following == float("inf"):
                continue
            for s, u in holders[i]:
                own = unit[s]
                if own < following:
                    reduced[s] -= u * (following - max(level, own))
            price[i] = following
            moved = True
