"""Benchmark the sourcing engine: time and plan quality per strategy.

Runs every strategy over the recorded instances (tests/sourcing/instances,
which carry their proven optimum), over generated ones (seeded: up to 300
locations and 25 lines, warehouses with deep stock and stores with sparse
stock across European cities, mixed policies) and over the largest shape
under every policy: 300 locations x 25 lines for each combination of split
penalty (0, 1.5, 4), line splits (allowed or not) and shipment cap (none, 1,
2, 3). For generated instances a rule strategy's plan counts as optimal when
it matches the optimal engine's. The optimal engine itself is checked against
an independent MIP (HiGHS via scipy, when scipy is installed) on a subset of
the generated instances. Times are printed as wall time (`elapsed_ms`) and CPU
time (`time.process_time`), beside the load average: on a busy machine the CPU
figures are the ones that compare.

    python bench/sourcing.py [--generated N] [--seed S] [--grid N] [--mip N]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sourcing import plan  # noqa: E402
from sourcing.check import Optimum  # noqa: E402
from sourcing.compare import Case, compare, format_table, reaches  # noqa: E402
from sourcing.jsonio import instance_from_json, optimum_from_json  # noqa: E402

RECORDED = ROOT / "tests" / "sourcing" / "instances"

CITIES = {
    "PARIS": (48.8566, 2.3522),
    "LYON": (45.764, 4.8357),
    "MARSEILLE": (43.2965, 5.3698),
    "BORDEAUX": (44.8378, -0.5792),
    "LILLE": (50.6292, 3.0573),
    "TOULOUSE": (43.6047, 1.4442),
    "NICE": (43.7102, 7.262),
    "BRUSSELS": (50.8503, 4.3517),
    "AMSTERDAM": (52.3676, 4.9041),
    "ROTTERDAM": (51.9244, 4.4777),
    "GENEVA": (46.2044, 6.1432),
    "MILAN": (45.4642, 9.19),
    "BARCELONA": (41.3874, 2.1686),
    "MADRID": (40.4168, -3.7038),
    "LONDON": (51.5072, -0.1276),
    "FRANKFURT": (50.1109, 8.6821),
    "MUNICH": (48.1351, 11.582),
    "BERLIN": (52.52, 13.405),
    "ZURICH": (47.3769, 8.5417),
    "VIENNA": (48.2082, 16.3738),
}
SIZES = (5, 12, 30, 80, 200, 300, 300)  # locations in all


# Every policy of the largest shape: split penalty x line splits x shipment cap.
POLICIES = [
    {"split_penalty": penalty, "allow_line_split": split, "max_shipments": cap}
    for penalty in (0.0, 1.5, 4.0)
    for split in (True, False)
    for cap in (None, 1, 2, 3)
]


def generate(
    rng: random.Random,
    *,
    size: int | None = None,
    lines: int | None = None,
    policy: dict | None = None,
) -> dict:
    """Return a random instance shaped like the recorded ones (calibrated on their statistics);
    `size` (locations in all), `lines` and `policy` fix what is otherwise drawn."""
    catalogue = [f"SKU-{n:04d}" for n in range(rng.choice((20, 20, 50, 170)))]
    warehouses = rng.randint(1, 4)
    stores = max(1, (size or rng.choice(SIZES)) - warehouses)
    names = list(CITIES)
    locations = []
    for n in range(warehouses + stores):
        warehouse = n < warehouses
        city = rng.choice(names)
        lat, lon = CITIES[city]
        spread = 0.4 if warehouse else 0.15
        if warehouse:
            stock = {s: rng.choice((0, 0, 5, 20, 100)) for s in catalogue if rng.random() < 0.9}
            costs = (rng.uniform(4.3, 7.0), rng.uniform(0.0027, 0.006), rng.uniform(0.2, 0.4))
        else:
            held = rng.sample(catalogue, max(2, round(len(catalogue) * rng.uniform(0.15, 0.45))))
            stock = {s: rng.choice((1, 1, 2, 3, 6)) for s in held}
            costs = (rng.uniform(5.0, 12.0), rng.uniform(0.003, 0.01), rng.uniform(0.8, 2.5))
        locations.append(
            {
                "code": f"{'DC' if warehouse else 'ST'}-{city}-{n}",
                "lat": round(lat + rng.uniform(-spread, spread), 4),
                "lon": round(lon + rng.uniform(-spread, spread), 4),
                "ships": warehouse or rng.random() < 0.85,
                "priority": rng.randint(1, 10),
                "shipment_cost": round(costs[0], 2),
                "cost_per_km": round(costs[1], 4),
                "unit_cost": round(costs[2], 2),
                "stock": stock,
            }
        )
    count = lines or rng.choice((1, 2, 3, 6, 10, 15, 25, 25))
    wanted = catalogue[: max(count, 8)]  # orders favour the catalogue's head, so SKUs repeat
    order_lines = [
        {"sku": rng.choice(wanted), "quantity": rng.choice((1, 1, 1, 2, 2, 3, 5))}
        for _ in range(count)
    ]
    lat, lon = CITIES[rng.choice(names)]
    return {
        "order": {
            "lines": order_lines,
            "destination": {
                "lat": round(lat + rng.uniform(-0.3, 0.3), 4),
                "lon": round(lon + rng.uniform(-0.3, 0.3), 4),
            },
        },
        "locations": locations,
        "policy": policy
        or {
            "split_penalty": rng.choice((0.0, 1.5, 4.0)),
            "allow_line_split": rng.random() < 0.7,
            "max_shipments": rng.choice((None, None, None, 1, 2, 3)),
        },
    }


def mip_check(instances: list[tuple[str, dict]], limit: int) -> None:
    """Compare the optimal engine with an independent MIP on the smaller instances."""
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        print("\nMIP check skipped: scipy is not installed")
        return
    checked = agreed = 0
    for name, instance in instances:
        if checked >= limit:
            break
        if len(instance["locations"]) > 80:
            continue
        reference = _solve_mip(instance)
        if reference is None:
            continue
        checked += 1
        ours = plan(instance_from_json(instance), explain_runner_ups=False)
        if ours.units == reference[0] and reaches(ours, Optimum(*reference)):
            agreed += 1
        else:
            print(f"  MIP disagrees on {name}: engine {ours.units}/{ours.cost}, MIP {reference}")
    print(f"\nMIP check (HiGHS, independent model): {agreed}/{checked} generated instances agree")


def _solve_mip(instance: dict) -> tuple[int, float] | None:
    """Return (most units, least cost at those units) from a two-stage MIP, None on time-out."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    lines = instance["order"]["lines"]
    dest = instance["order"]["destination"]
    policy = instance.get("policy", {})
    split = policy.get("allow_line_split", True)
    cap = policy.get("max_shipments")
    penalty = policy.get("split_penalty", 0.0)
    locations = [loc for loc in instance["locations"] if loc.get("ships", True)]
    n, m = len(locations), len(lines)
    if n == 0:
        return 0, 0.0
    # variables: y (n, binary) then per location and line: x (quantity, or 0/1 whole line)
    nx = n * m

    def xi(loc: int, line: int) -> int:
        return n + loc * m + line

    rows, lower, upper = [], [], []

    def row(coefs: dict[int, float], lo: float, hi: float) -> None:
        vector = np.zeros(n + nx)
        for k, v in coefs.items():
            vector[k] += v
        rows.append(vector)
        lower.append(lo)
        upper.append(hi)

    qty = [line["quantity"] for line in lines]
    size = [1.0 if split else float(q) for q in qty]  # units per unit of x
    for j in range(m):  # a line gets at most its quantity (or is whole once)
        row({xi(i, j): size[j] for i in range(n)}, 0, qty[j])
    skus = sorted({line["sku"] for line in lines})
    for i, loc in enumerate(locations):
        for sku in skus:  # shared stock per SKU, only from an open location
            coefs = {xi(i, j): size[j] for j in range(m) if lines[j]["sku"] == sku}
            coefs[i] = -float(loc["stock"].get(sku, 0))
            row(coefs, -np.inf, 0)
        for j in range(m):  # x only where y is open (big-M: the line's quantity)
            row({xi(i, j): 1.0, i: -float(qty[j] if split else 1)}, -np.inf, 0)
    if cap is not None:
        row(dict.fromkeys(range(n), 1.0), 0, cap)
    integrality = np.ones(n + nx)
    bounds = Bounds(
        np.zeros(n + nx), np.concatenate([np.ones(n), np.full(nx, max(qty) if split else 1)])
    )
    units = np.zeros(n + nx)
    for i in range(n):
        for j in range(m):
            units[xi(i, j)] = size[j]
    first = milp(
        -units,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=integrality,
        bounds=bounds,
        options={"time_limit": 30},
    )
    if first.status != 0:
        return None
    most = round(-first.fun)
    cost = np.zeros(n + nx)
    for i, loc in enumerate(locations):
        km = _km(loc, dest)
        cost[i] = loc["shipment_cost"] + loc["cost_per_km"] * km + penalty
        for j in range(m):
            cost[xi(i, j)] = loc["unit_cost"] * size[j]
    row({k: units[k] for k in range(n + nx) if units[k]}, most, most)
    row(dict.fromkeys(range(n), 1.0), 1 if most else 0, np.inf)
    second = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=integrality,
        bounds=bounds,
        options={"time_limit": 30},
    )
    if second.status != 0:
        return None
    return most, (second.fun - penalty) if most else 0.0


def _km(a: dict, b: dict) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(title: str, cases: list[Case]) -> None:
    if not cases:
        return
    rows = compare(cases)
    print(f"\n{title}")
    print(format_table(rows))
    optimal = rows[0]
    print(f"slowest optimal: {optimal.slowest} {max(optimal.times_ms):.1f} ms")
    for row in rows:
        print(
            f"{row.strategy:<17} wall p50 {row.percentile_ms(0.5):5.1f}"
            f" p99 {row.percentile_ms(0.99):5.1f} max {max(row.times_ms):6.1f} ms"
            f" | CPU p50 {row.percentile_ms(0.5, cpu=True):5.1f}"
            f" p99 {row.percentile_ms(0.99, cpu=True):5.1f} max {max(row.cpu_ms):6.1f} ms"
        )
    print(f"load average {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=200, help="generated instances")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument(
        "--grid", type=int, default=10, help="300 x 25 instances per policy (24 policies)"
    )
    parser.add_argument("--mip", type=int, default=40, help="generated instances to check by MIP")
    args = parser.parse_args()

    recorded = []
    for path in sorted(RECORDED.glob("*.json")):
        raw = json.loads(path.read_text())
        recorded.append(Case(path.name, instance_from_json(raw), optimum_from_json(raw)))
    rng = random.Random(args.seed)
    generated_json = [(f"gen-{n:03d}", generate(rng)) for n in range(args.generated)]
    grid_rng = random.Random(args.seed + 1)  # the same set whatever --generated says
    grid_json = [
        (f"grid-{p:02d}-{n:02d}", generate(grid_rng, size=300, lines=25, policy=policy))
        for n in range(args.grid)
        for p, policy in enumerate(POLICIES)
    ]
    # Reading is timed apart: the engine's times below start from a typed instance.
    started = time.process_time()
    generated = [Case(name, instance_from_json(raw)) for name, raw in generated_json]
    reading_ms = (time.process_time() - started) * 1000
    grid = [Case(name, instance_from_json(raw)) for name, raw in grid_json]

    # The corpus is long-lived: keep the garbage collector from walking it during the engine's
    # runs (a full collection over it costs tens of ms, charged to whichever plan triggers it).
    gc.collect()
    gc.freeze()

    started = time.perf_counter()
    report(f"recorded instances ({len(recorded)}, against their proven optima)", recorded)
    report(f"generated instances ({len(generated)}, seed {args.seed})", generated)
    if grid:
        report(
            f"300 locations x 25 lines, every policy ({len(grid)}: {args.grid} per policy,"
            f" {len(POLICIES)} policies)",
            grid,
        )
    if generated:
        print(
            f"reading the generated instances (instance_from_json): {reading_ms:.1f} ms CPU,"
            f" {reading_ms / len(generated):.2f} ms each"
        )
    mip_check(generated_json, args.mip)
    print(f"\nbench time {time.perf_counter() - started:.1f} s, load average {load_average()}")


if __name__ == "__main__":
    main()
