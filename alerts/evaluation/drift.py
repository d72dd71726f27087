"""Stock drift found by `stock_reconcile` (inventory.reconcile.stock_drift), as alert rows."""

from __future__ import annotations

import json
from collections.abc import Iterable

from alerts.evaluation.engine import Hits
from alerts.models import Alert
from inventory.models import StockLevel


def stock_drift(drift: Iterable) -> Hits:
    """Return one hit per drifting balance of a stock row: `inventory.reconcile.Drift` items."""
    drift = list(drift)
    places = {
        pk: (product_id, location_id)
        for pk, product_id, location_id in StockLevel.objects.filter(
            pk__in={item.stock_id for item in drift}
        ).values_list("pk", "product_id", "location_id")
    }
    rows = []
    for item in drift:
        product_id, location_id = places.get(item.stock_id, (None, None))
        details = {
            "field": item.field,
            "recorded": item.recorded,
            "expected": item.expected,
            "difference": item.recorded - item.expected,
        }
        rows.append(
            (
                f"{item.stock_id}:{item.field}",
                product_id,
                location_id,
                None,
                True,
                json.dumps(details, separators=(",", ":")),
            )
        )
    return Hits(kind=Alert.Kind.STOCK_DRIFT, rows=rows)
