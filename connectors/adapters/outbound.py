"""The storefronts' calls back, by kind (the outbound half of connectors.adapters.base).

`Shipment` is the base's `ShipmentOut` with what a storefront without fulfillment orders
needs: a key naming the shipment (so that telling it twice writes the same thing) and
whether it was the order's last parcel. `stock_push` also takes the SKUs' remote ids, looked
up and kept by connectors.services.outbound, since adapters keep nothing between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from connectors.adapters.base import OutboundAdapter, ShipmentOut


@dataclass(frozen=True)
class Shipment(ShipmentOut):
    key: str = ""
    last: bool = False


@cache
def _adapters() -> dict[str, OutboundAdapter]:
    from connectors.shopify.outbound import ShopifyOutboundAdapter
    from connectors.woocommerce.outbound import WooCommerceOutboundAdapter

    return {"shopify": ShopifyOutboundAdapter(), "woocommerce": WooCommerceOutboundAdapter()}


def outbound_adapter(kind: str) -> OutboundAdapter:
    """Return what calls a storefront of `kind` (a Connector.Kind) back."""
    return _adapters()[kind]
