#!/usr/bin/env python
"""The soak: the reference deployment (ops/cluster) driven for a busy stretch through
HAProxy while an app host dies, a worker host dies, Redis restarts and the primary
PostgreSQL restarts; then the checks and the report of what clients saw (ops/cluster/soak.py).

    sudo .venv/bin/python bench/soak.py                 # 30 minutes, 5 of warm-up
    sudo .venv/bin/python bench/soak.py --minutes 10 --warm-up 120

Needs root (network namespaces); brings the deployment up and removes it afterwards
(`--keep` leaves it up). Prints the report; exits 1 if a check failed. Figures in
docs/operations.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.cluster import cluster, soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warm-up", type=float, default=300.0, help="seconds before the faults")
    parser.add_argument("--shoppers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2.0, help="orders a second per shopper")
    parser.add_argument("--keep", action="store_true", help="leave the deployment up")
    options = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("network namespaces need root")
    begun = time.monotonic()
    cluster.up()
    print(f"deployment up in {time.monotonic() - begun:.0f} s; load {options.minutes:g} min")
    try:
        result = soak.soak_run(
            seconds=options.minutes * 60,
            warm_up=options.warm_up,
            shoppers=options.shoppers,
            rate=options.rate,
            drain_seconds=300,
        )
        load = os.getloadavg()
        print("\n".join(soak.report_lines(result)))
        print(f"machine load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        if not options.keep:
            cluster.down()
    return 1 if result.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
