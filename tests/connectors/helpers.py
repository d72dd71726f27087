"""Storefront payloads from the platforms' references (fixtures/), signed as they sign."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def shopify_order(**changes: Any) -> dict[str, Any]:
    """Shopify's sample order, not cancelled (as orders/create and orders/updated send it)."""
    order = copy.deepcopy(fixture("shopify_orders_cancelled.json"))
    order.update(cancelled_at=None, cancel_reason=None, financial_status="paid", confirmed=True)
    order.update(changes)
    return order


def woocommerce_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(fixture("woocommerce_order.json"))
    order.update(changes)
    return order


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
