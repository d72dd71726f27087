"""Benchmark what refusing bad text costs each request: no database needed.

Measures, in one process:

* the control-character check of a parsed JSON body (core.api.parsers), on a typical
  order of 3 lines and on one of 500 lines;
* the normal form of a key (core.text.code_normalise), for an ASCII SKU and for one with
  accents and full-width letters;
* an order's body read into its one definition (orders.inputs.OrderBody), 3 and 500 lines;
* the URL check of the input guard (core.input_guard) on a console queue's query string;
* a 100,000-row count file parsed (inventory.countfile), whose rows are keys too.

Prints microseconds per call (best of 5 rounds) and rows/s for the count file.

    python bench/input_checks.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.test_settings")

import django

django.setup()

from django.test import RequestFactory  # noqa: E402

from core.api.parsers import control_characters_refuse  # noqa: E402
from core.input_guard import url_problem  # noqa: E402
from core.structs import struct_convert  # noqa: E402
from core.text import code_normalise  # noqa: E402
from inventory.countfile import parse_count_text  # noqa: E402
from orders.inputs import OrderBody  # noqa: E402


def order(lines: int) -> dict:
    return {
        "channel": "web",
        "external_id": "W-100231",
        "customer": {"email": "a@example.com", "name": "Ada Lovelace", "phone": "+33 6 12 34"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.86,
            "lon": 2.33,
        },
        "currency": "EUR",
        "lines": [
            {"sku": f"SKU-{n:05d}", "quantity": 2, "unit_price": "19.90"} for n in range(lines)
        ],
    }


def per_call(work, calls: int) -> float:
    """Return the best of 5 rounds, in microseconds per call."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    small, big = order(3), order(500)
    request = RequestFactory().get(
        "/console/queues/to-accept/", {"q": "Lovelace", "location": "DC-PARIS", "page": "3"}
    )
    rows = 100_000
    text = "sku,location,quantity\n" + "".join(
        f"SKU-{n % 1000:05d},L{n // 1000:03d},{n % 7}\n" for n in range(rows)
    )
    figures = {
        "body check, order of 3 lines": per_call(lambda: control_characters_refuse(small), 2000),
        "body check, order of 500 lines": per_call(lambda: control_characters_refuse(big), 50),
        "order body read, 3 lines": per_call(lambda: struct_convert(small, OrderBody), 2000),
        "order body read, 500 lines": per_call(lambda: struct_convert(big, OrderBody), 50),
        "key normal form, ASCII SKU": per_call(lambda: code_normalise("AP-10001"), 20000),
        "key normal form, accented full-width SKU": per_call(
            lambda: code_normalise("ＣＡＦＥ\u0301-１"), 20000
        ),
        "URL check, console query string": per_call(lambda: url_problem(request), 20000),
    }
    for name, micros in figures.items():
        print(f"{name:45} {micros:10.2f} µs")
    start = time.perf_counter()
    parsed = parse_count_text(text)
    elapsed = time.perf_counter() - start
    assert len(parsed.lines) == rows and not parsed.errors
    print(f"{'count file parse, 100,000 rows':45} {rows / elapsed:10,.0f} rows/s")


if __name__ == "__main__":
    main()
