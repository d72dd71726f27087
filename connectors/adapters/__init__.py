"""The storefronts the OMS connects to, by kind: one module each behind one interface
(connectors.adapters.base). A new storefront is one module and one line here."""

from __future__ import annotations

from connectors.adapters.base import InboundAdapter
from connectors.shopify.inbound import ShopifyInbound
from connectors.woocommerce.inbound import WooCommerceInbound

INBOUND: dict[str, InboundAdapter] = {
    ShopifyInbound.kind: ShopifyInbound(),
    WooCommerceInbound.kind: WooCommerceInbound(),
}


def inbound_adapter(kind: str) -> InboundAdapter:
    """Return what reads the webhooks of a storefront of `kind` (a Connector.Kind)."""
    return INBOUND[kind]
