"""The returns an order's answer lists: the seam between orders and the returns app above.

An order's API answer and its console page list the order's returns, each in the one shape
the returns endpoints answer. Orders sit below returns, so the returns app registers, from
its `AppConfig.ready`, how to read an order's returns along with the order (a prefetch) and
how to draw one. Neither imports the other; with nothing registered an order lists none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Prefetch, prefetch_related_objects

# The attribute the prefetch fills on each order: its returns, oldest first.
ATTRIBUTE = "returns_shown"


@dataclass(frozen=True)
class ReturnsShown:
    # A Prefetch of the order's returns into ATTRIBUTE, with all `draw` reads.
    prefetch: Callable[[], Prefetch]
    draw: Callable[[Any], dict]


_shown: ReturnsShown | None = None


def order_returns_register(*, prefetch: Callable[[], Prefetch], draw: Callable[[Any], dict]):
    global _shown
    _shown = ReturnsShown(prefetch=prefetch, draw=draw)


def order_returns_prefetch() -> list[Prefetch]:
    """Return the prefetch to add to a query of orders whose answers list their returns."""
    return [] if _shown is None else [_shown.prefetch()]


def order_returns_drawn(order: Model) -> list[dict]:
    """Return the order's returns as the returns endpoints answer them, oldest first: read
    along with the order (`order_returns_prefetch`), or now for an order read without."""
    if _shown is None:
        return []
    if not hasattr(order, ATTRIBUTE):
        prefetch_related_objects([order], _shown.prefetch())
    returns: Iterable[Any] = getattr(order, ATTRIBUTE)
    return [_shown.draw(ret) for ret in returns]
