"""Batch producers: domains that turn rows of their own into events when the relay runs.

Some events are cheaper written in batches than by each write that causes them (the stock
ledger: an event per movement would double the writes of order capture). Their domain
registers a producer here from its `AppConfig.ready`; the relay runs each one before it fans
out, so the outbox calls them without importing the domains above it.
"""

from __future__ import annotations

from collections.abc import Callable

Producer = Callable[[], int]

_producers: dict[str, Producer] = {}


def producer_register(name: str, producer: Producer) -> None:
    """Run `producer` (it writes events, returns how many) at the start of every relay run.

    Registering the same name again replaces the producer (an app registry reloaded).
    """
    _producers[name] = producer


def producers_run() -> int:
    """Run every registered producer, in the order they registered; return how many events
    they wrote together."""
    return sum(producer() for producer in list(_producers.values()))
