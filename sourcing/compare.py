"""Compare strategies over many instances: share of optimal plans, units left, cost, time.

Shared by `manage.py sourcing_compare` and bench/sourcing.py. The reference for
"optimal" is the case's recorded optimum when it has one, else the optimal
strategy's own plan. Times cover planning only: the cases are read beforehand.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .check import COST_TOLERANCE, Optimum
from .engine import STRATEGIES, plan
from .instance import Instance
from .plan import Plan


@dataclass(frozen=True, slots=True)
class Case:
    """A named instance, with its proven optimum when one is recorded."""

    name: str
    instance: Instance
    optimum: Optimum | None = None


@dataclass
class StrategyStats:
    strategy: str
    plans: int = 0
    optimal: int = 0
    units_short: int = 0  # units fewer than the reference, summed
    unallocated: int = 0  # units left unallocated, summed
    total_cost: float = 0.0
    times_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # process time: robust on a busy machine
    slowest: str = ""

    @property
    def optimal_share(self) -> float:
        return self.optimal / self.plans if self.plans else 0.0

    @property
    def mean_cost(self) -> float:
        return self.total_cost / self.plans if self.plans else 0.0

    def percentile_ms(self, share: float, *, cpu: bool = False) -> float:
        """Return the nearest-rank percentile of the elapsed (or CPU) times."""
        times = self.cpu_ms if cpu else self.times_ms
        if not times:
            return 0.0
        ordered = sorted(times)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def reaches(result: Plan, optimum: Optimum) -> bool:
    """Return True when a plan is as good as `optimum`, within the contract's tolerance."""
    if result.units != optimum.units:
        return result.units > optimum.units
    return result.cost <= optimum.cost * (1 + COST_TOLERANCE) + COST_TOLERANCE


def compare(
    cases: Iterable[Case],
    strategies: Iterable[str] = STRATEGIES,
    *,
    budget_ms: float | None = None,
) -> list[StrategyStats]:
    """Plan every case with every strategy; return one StrategyStats per strategy."""
    names = list(strategies)
    stats = {name: StrategyStats(name) for name in names}
    for case in cases:
        instance, reference = case.instance, case.optimum
        best, best_cpu = None, 0.0
        if reference is None or "optimal" in names:
            started = time.process_time()
            best = plan(instance, "optimal", budget_ms, explain_runner_ups=False)
            best_cpu = (time.process_time() - started) * 1000
            reference = reference or Optimum(best.units, best.cost)
        for name in names:
            if name == "optimal" and best is not None:
                result, cpu = best, best_cpu
            else:
                started = time.process_time()
                result = plan(instance, name, budget_ms, explain_runner_ups=False)
                cpu = (time.process_time() - started) * 1000
            row = stats[name]
            row.plans += 1
            row.optimal += reaches(result, reference)
            row.units_short += max(0, reference.units - result.units)
            row.unallocated += sum(u.quantity for u in result.unallocated)
            row.total_cost += result.cost
            if not row.times_ms or result.elapsed_ms > max(row.times_ms):
                row.slowest = case.name
            row.times_ms.append(result.elapsed_ms)
            row.cpu_ms.append(cpu)
    return [stats[name] for name in names]


def format_table(rows: list[StrategyStats]) -> str:
    """Return the comparison as a fixed-width text table."""
    header = (
        f"{'strategy':<17}{'plans':>6}{'optimal':>9}{'short':>7}{'unalloc':>8}"
        f"{'total cost':>12}{'mean cost':>10}{'mean ms':>9}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
    )
    out = [header, "-" * len(header)]
    for row in rows:
        mean_ms = statistics.fmean(row.times_ms) if row.times_ms else 0.0
        out.append(
            f"{row.strategy:<17}{row.plans:>6}{row.optimal_share:>8.1%}{row.units_short:>7}"
            f"{row.unallocated:>8}{row.total_cost:>12.2f}{row.mean_cost:>10.2f}{mean_ms:>9.1f}"
            f"{row.percentile_ms(0.5):>8.1f}{row.percentile_ms(0.99):>8.1f}"
            f"{max(row.times_ms, default=0.0):>8.1f}"
        )
    return "\n".join(out)
