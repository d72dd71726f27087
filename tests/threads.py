"""Run one piece of work in many real threads at once, for the PostgreSQL concurrency tests."""

from __future__ import annotations

import threading

from django.db import connections


def run_in_threads(work, count: int) -> tuple[list, list[BaseException]]:
    """Start `count` threads that call `work(i)` together (a barrier lines them up); return
    what they answered and what they raised. Each thread closes its database connection."""
    results, errors = [], []
    barrier = threading.Barrier(count)

    def target(i):
        try:
            barrier.wait()
            results.append(work(i))
        except BaseException as error:  # asserted on by the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors
