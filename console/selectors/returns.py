"""Return figures for the dashboard: return rate by channel, the products and reasons most
returned, refunds this week, units back on the shelves from returns."""

from __future__ import annotations

from datetime import datetime

from console.selectors.time import days_back
from returns import selectors
from returns.models import ReturnLine

TOP_PRODUCTS = 5
REFUND_DAYS = 7


def return_figures(*, now: datetime) -> dict:
    """Return the network's return figures over the rate's window (refunds: 7 days)."""
    since = selectors.rate_since(now)
    labels = dict(ReturnLine.Reason.choices)
    products = [
        {"rate": rate, "reason": labels.get(rate.top_reason, "")}
        for rate in selectors.return_rate_top_products(since=since, limit=TOP_PRODUCTS)
    ]
    return {
        "days": selectors.RATE_WINDOW_DAYS,
        "channels": selectors.return_rate_by_channel(since=since),
        "products": products,
        "reasons": selectors.return_reasons(since=since),
        "refunds": selectors.refunds_since(days_back(now, REFUND_DAYS)),
        "refund_days": REFUND_DAYS,
        "restocked": selectors.units_restocked(since),
    }
