#!/usr/bin/env python
"""What the explanation's runner-ups cost capture: the sourcing call of an order, with and
without them, alternated on the same instances.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/runner_ups.py \
        [--orders 300] [--rounds 6]

Runs against the database in `DATABASE_URL` as it is (it must hold the demo network:
`manage.py seed_demo`). It builds the instances capture builds for the bodies of
`bench/orders.py` (3 lines of SKUs the warehouses hold deeply, a destination in France),
reading the web channel's sellable stock once per basket, then plans each with capture's
budget, with and without the runner-ups, round after round in alternating order, and
prints the CPU per plan (`time.process_time`) of each round beside the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
os.environ["DEBUG"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--orders", type=int, default=300)
parser.add_argument("--rounds", type=int, default=6)


def main() -> None:
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/runner_ups.py: skipped, set DATABASE_URL to a PostgreSQL database")
        return

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    import sourcing
    from inventory.selectors import sellable_stock
    from orders.models import Channel
    from orders.services.allocation import Want, order_candidates, sourcing_instance

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT p.id, p.sku FROM inventory_stocklevel s
               JOIN inventory_product p ON p.id = s.product_id
               JOIN inventory_location l ON l.id = s.location_id
               WHERE l.kind = 'warehouse' AND s.on_hand - s.allocated - s.safety_stock > 200
               ORDER BY p.sku"""
        )
        skus = cursor.fetchall()
    candidates = order_candidates(
        channel=Channel.objects.get(code="web"), delivery_method="standard", pickup_location_id=None
    )
    rng = random.Random(7)
    instances = []
    for _ in range(options.orders):
        wants = [
            Want(i, product_id, sku, rng.randint(1, 2))
            for i, (product_id, sku) in enumerate(rng.sample(skus, 3))
        ]
        sellable = sellable_stock(product_ids={w.product_id for w in wants}, candidates=candidates)
        destination = {"lat": 43 + rng.random() * 7, "lon": -1 + rng.random() * 8}
        instances.append(sourcing_instance(wants, sellable, destination, candidates))
    budget = settings.OMS_SOURCING_BUDGET_MS
    spent: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(options.rounds):
        for runner_ups in (True, False) if round_ % 2 == 0 else (False, True):
            started = time.process_time()
            for instance in instances:
                sourcing.plan(instance, "optimal", budget, explain_runner_ups=runner_ups)
            spent[runner_ups].append((time.process_time() - started) * 1000 / len(instances))
    locations = sum(len(instance.locations) for instance in instances) / len(instances)
    print(f"{len(instances)} baskets, {locations:.1f} candidate locations each")
    for runner_ups, label in ((True, "with runner-ups   "), (False, "without runner-ups")):
        figures = ", ".join(f"{ms:.3f}" for ms in spent[runner_ups])
        mean = sum(spent[runner_ups]) / len(spent[runner_ups])
        print(f"{label}: {figures} ms CPU per plan (mean {mean:.3f})")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
