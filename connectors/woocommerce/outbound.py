"""Calls back to a WooCommerce shop: shipments, stock, and orders modified since a moment.

REST API v3 under `/wp-json/wc/v3/`, authenticated with the shop's consumer key and secret
(HTTP Basic over HTTPS). WooCommerce keeps one stock figure per product, without
locations: the connector sends it the sum over the mapped locations.

A variable product (a T-shirt in sizes) sells variations, each with its own SKU and stock:
`GET products?sku=` answers a variation's SKU with the variation itself (`type`
"variation", its `parent_id`), so a SKU's remote ids are its product and, for a variation,
the variation; its stock is set through `products/{product}/variations/batch`, the
product's own figure being left to WooCommerce.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.adapters.base import Payload, RemoteIds, ShipmentOut, StockFigure
from connectors.remote import RemoteNotFound, RemoteRefused, basic_auth, call

PREFIX = "/wp-json/wc/v3/"
# WooCommerce takes at most 100 objects in one batch request, and 100 in a page.
BATCH = 100
PAGE = 100
# What a batch row answers for an id the shop does not have.
UNKNOWN_ID_CODES = frozenset(
    {"woocommerce_rest_product_invalid_id", "woocommerce_rest_product_variation_invalid_id"}
)
# The meta keys of a shipment on the order: one per fulfilment, so that sending it twice
# writes the same key with the same value.
TRACKING_META = "_oms_tracking_{}"


def credentials(access_token: str) -> tuple[str, str]:
    """Split `consumer key:consumer secret`, the form a WooCommerce connector's token takes."""
    key, _, secret = access_token.partition(":")
    if not key or not secret:
        raise RemoteRefused(
            "The WooCommerce access token must be the consumer key and secret as key:secret."
        )
    return key, secret


class WooCommerceOutbound:
    """One shop's REST API, as the connector's calls back use it."""

    def __init__(self, *, base_url: str, access_token: str) -> None:
        self.base = base_url.rstrip("/") + PREFIX
        self.auth = basic_auth(*credentials(access_token))
        self.pause_seconds = 0.0  # WooCommerce gives no budget: only 429 slows us down

    def _call(self, method: str, route: str, *, body=None, query=None):
        return call(
            method=method,
            url=self.base + route,
            headers={"Authorization": self.auth},
            body=body,
            query=query,
        )

    def products_by_sku(self, skus: Sequence[str]) -> dict[str, dict[str, str]]:
        """Return `{sku: {"product": product id, "variation": variation id or ""}}` of the
        SKUs the shop sells (a variation's product is its parent)."""
        found: dict[str, dict[str, str]] = {}
        skus = [s for s in dict.fromkeys(skus) if "," not in s]  # a comma splits the filter
        for start in range(0, len(skus), PAGE):
            chunk = skus[start : start + PAGE]
            reply = self._call(
                "GET", "products", query={"sku": ",".join(chunk), "per_page": str(PAGE)}
            )
            wanted = set(chunk)
            for product in reply.body or []:
                sku = product.get("sku")
                if sku in wanted and sku not in found:
                    parent = product.get("parent_id") or 0
                    if product.get("type") == "variation" and parent:
                        found[sku] = {"product": str(parent), "variation": str(product["id"])}
                    else:
                        found[sku] = {"product": str(product["id"]), "variation": ""}
        return found

    def stock_set(self, rows: Sequence[tuple[str, str, int]]) -> None:
        """Set `stock_quantity` of each `(product id, variation id or "", quantity)`
        (absolute: twice is once): products in `products/batch`, variations in their
        product's `variations/batch`. The known ones are updated; raise RemoteNotFound
        naming the unknown product and variation ids."""
        missing: list[str] = []
        products = [(product, units) for product, variation, units in rows if not variation]
        by_parent: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for product, variation, units in rows:
            if variation:
                by_parent[product].append((variation, units))
        for start in range(0, len(products), BATCH):
            missing += self._batch("products/batch", products[start : start + BATCH])
        for parent, variations in by_parent.items():
            route = f"products/{int(parent)}/variations/batch"
            for start in range(0, len(variations), BATCH):
                chunk = variations[start : start + BATCH]
                try:
                    missing += self._batch(route, chunk)
                except RemoteNotFound:
                    # The product itself is gone: none of its variations is known there.
                    missing += [variation for variation, _ in chunk]
        if missing:
            raise RemoteNotFound(
                "WooCommerce does not know products " + ", ".join(missing), ids=missing
            )

    def _batch(self, route: str, chunk: Sequence[tuple[str, int]]) -> list[str]:
        """Send one batch of `(id, quantity)`; return the ids WooCommerce did not know."""
        reply = self._call(
            "POST",
            route,
            body={
                "update": [
                    {"id": int(remote), "manage_stock": True, "stock_quantity": quantity}
                    for remote, quantity in chunk
                ]
            },
        )
        missing = []
        answered = (reply.body or {}).get("update") or []
        for (remote, _), row in zip(chunk, answered, strict=False):
            error = row.get("error") if isinstance(row, dict) else None
            if error is None:
                continue
            if error.get("code") in UNKNOWN_ID_CODES:
                missing.append(remote)
            else:
                raise RemoteRefused(f"WooCommerce: {error.get('message')} (id {remote})")
        return missing

    def shipment_send(
        self,
        *,
        external_id: str,
        shipment_key: str,
        carrier: str,
        tracking_number: str,
        complete: bool,
    ) -> str:
        """Write the tracking on the order (its meta data, one key per shipment) and, once
        the whole order has left, set it `completed`; return what was done."""
        body: dict = {
            "meta_data": [
                {
                    "key": TRACKING_META.format(shipment_key),
                    "value": {"carrier": carrier, "tracking_number": tracking_number},
                }
            ]
        }
        if complete:
            body["status"] = "completed"
        self._call("PUT", f"orders/{int(external_id)}", body=body)
        return "completed with tracking" if complete else "tracking added"

    def orders_updated_since(self, since: datetime) -> Iterator[dict]:
        """Yield the shop's orders modified after `since`, as the REST API (and its
        webhooks) show them."""
        page = 1
        while True:
            reply = self._call(
                "GET",
                "orders",
                query={
                    "modified_after": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "dates_are_gmt": "true",
                    "orderby": "modified",
                    "order": "asc",
                    "per_page": str(PAGE),
                    "page": str(page),
                },
            )
            yield from reply.body or []
            pages = int(reply.headers.get("x-wp-totalpages") or 1)
            if page >= pages:
                return
            page += 1


class WooCommerceOutboundAdapter:
    """The outbound half of the WooCommerce connector (connectors.adapters.base)."""

    kind = "woocommerce"

    @staticmethod
    def client(connector: Any) -> WooCommerceOutbound:
        return WooCommerceOutbound(
            base_url=connector.base_url, access_token=connector.access_token()
        )

    def shipment_push(self, *, connector: Any, shipment: ShipmentOut) -> str:
        return self.client(connector).shipment_send(
            external_id=shipment.remote_order_id,
            shipment_key=getattr(shipment, "key", "") or shipment.tracking_number,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            complete=getattr(shipment, "last", True),
        )

    def stock_push(
        self, *, connector: Any, figures: Sequence[StockFigure], ids: Mapping[str, RemoteIds]
    ) -> None:
        """Set each SKU's one stock figure (its product's, or its variation's): the sum of
        its figures at the mapped locations. RemoteNotFound names the SKUs whose product or
        variation WooCommerce no longer knows (the others were set)."""
        totals: dict[str, int] = defaultdict(int)
        for figure in figures:
            totals[figure.sku] += figure.available
        rows = [(ids[sku].product_id, ids[sku].variant_id, units) for sku, units in totals.items()]
        try:
            self.client(connector).stock_set(rows)
        except RemoteNotFound as unknown:
            gone = set(unknown.ids)
            skus = [sku for sku in totals if (ids[sku].variant_id or ids[sku].product_id) in gone]
            raise RemoteNotFound(str(unknown), ids=sorted(skus)) from unknown

    def orders_updated_since(self, *, connector: Any, since: datetime) -> list[Payload]:
        return list(self.client(connector).orders_updated_since(since))

    def remote_ids_lookup(self, *, connector: Any, skus: Sequence[str]) -> dict[str, RemoteIds]:
        found = self.client(connector).products_by_sku(skus)
        return {
            sku: RemoteIds(sku=sku, product_id=ids["product"], variant_id=ids["variation"])
            for sku, ids in found.items()
        }
