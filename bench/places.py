"""Benchmark placing addresses without coordinates (orders/places.py), no database.

Prints, in a fresh process: the seconds and the memory the place data takes to read (what
gunicorn's master pays once before forking, and any other process on its first address),
then the time of one placement by postcode, by city, and of one that finds nothing, as
the median and 99th percentile over 20,000 French, German, Belgian and US addresses, and
the share placed from the postcode. Goal: a placement costs under 50 µs at p99, so that it
adds nothing to an order's capture.

    python bench/places.py
"""

from __future__ import annotations

import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orders import places  # noqa: E402

ROUNDS = 20_000
COUNTRIES = ("FR", "DE", "BE", "US")


def main() -> int:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    places.places_load(COUNTRIES)
    loaded = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"data read: {loaded:.2f} s, peak RSS +{(rss_after - rss_before) / 1024:.0f} MB")
    rng = random.Random(16)
    codes = {country: sorted(places._postcodes(country)[0]) or ["0"] for country in COUNTRIES}
    cities = [name for (country, name) in places._cities() if country == "FR"]
    cases = {
        "postcode": lambda: (lambda c: places.place(country=c, postcode=rng.choice(codes[c])))(
            rng.choice(COUNTRIES)
        ),
        "city": lambda: places.place(country="FR", city=rng.choice(cities)),
        "unknown": lambda: places.place(country="FR", postcode="00000", city="Nowhere"),
    }
    for name, call in cases.items():
        timings = []
        found = 0
        for _ in range(ROUNDS):
            begin = time.perf_counter_ns()
            answer = call()
            timings.append(time.perf_counter_ns() - begin)
            found += answer is not None
        timings.sort()
        p50 = statistics.median(timings) / 1000
        p99 = timings[int(len(timings) * 0.99)] / 1000
        print(f"{name:9} p50 {p50:6.1f} µs  p99 {p99:6.1f} µs  placed {found / ROUNDS:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
