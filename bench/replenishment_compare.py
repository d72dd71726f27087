"""Compare the proposal lines of two replenishment runs on one database: the same store,
source, SKU, quantity, position and target, line for line. Two runs over unchanged stock
propose the same transfers (a run holds nothing), so two versions of the code can be told
apart on a kept bench database (`bench/supply.py --keep`, then `--child` from each):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench_supply \\
        .venv/bin/python bench/replenishment_compare.py            # the last two runs
    ... bench/replenishment_compare.py --runs 3 4

Exits 1 when the lines differ, printing a few of the differences.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LINES = """
    SELECT src.code, dst.code, p.sku, l.quantity, l.position, l.target
    FROM supply_replenishmentline l
    JOIN supply_replenishmentproposal pr ON pr.id = l.proposal_id
    JOIN inventory_location src ON src.id = pr.source_id
    JOIN inventory_location dst ON dst.id = pr.destination_id
    JOIN inventory_product p ON p.id = l.product_id
    WHERE pr.run_id = %s"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        if args.runs:
            before, after = args.runs
        else:
            cursor.execute(
                "SELECT id FROM supply_replenishmentrun WHERE status = 'done' "
                "ORDER BY id DESC LIMIT 2"
            )
            ids = [row[0] for row in cursor.fetchall()]
            if len(ids) < 2:
                print("compare: fewer than two finished runs")
                return 1
            after, before = ids
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM ({LINES}) x", [before])
        count_before, units_before = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM ({LINES}) x", [after])
        count_after, units_after = cursor.fetchone()
        cursor.execute(
            f"SELECT 'only in {before}', * FROM (({LINES}) EXCEPT ALL ({LINES})) a "
            f"UNION ALL SELECT 'only in {after}', * FROM (({LINES}) EXCEPT ALL ({LINES})) b "
            "LIMIT 10",
            [before, after, after, before],
        )
        differences = cursor.fetchall()
    print(
        f"run {before}: {count_before:,} lines, {units_before:,} units; "
        f"run {after}: {count_after:,} lines, {units_after:,} units"
    )
    if differences or count_before != count_after:
        for row in differences:
            print("  ", *row)
        print("compare: the runs' lines DIFFER")
        return 1
    print("compare: the same lines (store, source, SKU, quantity, position, target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
