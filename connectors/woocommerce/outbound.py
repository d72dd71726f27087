"""Calls back to a WooCommerce shop: shipments, stock, and orders modified since a moment.

REST API v3 under `/wp-json/wc/v3/`, authenticated with the shop's consumer key and secret
(HTTP Basic over HTTPS). WooCommerce keeps one stock figure per product, without
locations: the connector sends it the sum over the mapped locations.
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
        """Return `{sku: {"product": product id}}` of the SKUs the shop sells."""
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
                    found[sku] = {"product": str(product["id"]), "inventory_item": ""}
        return found

    def stock_set(self, rows: Sequence[tuple[str, int]]) -> None:
        """Set `stock_quantity` of each `(product id, quantity)` (absolute: twice is once).
        The known products are updated; raise RemoteNotFound naming the unknown ones."""
        missing: list[str] = []
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            reply = self._call(
                "POST",
                "products/batch",
                body={
                    "update": [
                        {"id": int(product), "manage_stock": True, "stock_quantity": quantity}
                        for product, quantity in chunk
                    ]
                },
            )
            answered = (reply.body or {}).get("update") or []
            for (product, _), row in zip(chunk, answered, strict=False):
                error = row.get("error") if isinstance(row, dict) else None
                if error is None:
                    continue
                if error.get("code") == "woocommerce_rest_product_invalid_id":
                    missing.append(product)
                else:
                    raise RemoteRefused(f"WooCommerce: {error.get('message')} (product {product})")
        if missing:
            raise RemoteNotFound(
                "WooCommerce does not know products " + ", ".join(missing), ids=missing
            )

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
        """Set each SKU's one stock figure: the sum of its figures at the mapped locations.
        RemoteNotFound names the SKUs whose product WooCommerce no longer knows (the others
        were set)."""
        totals: dict[str, int] = defaultdict(int)
        for figure in figures:
            totals[figure.sku] += figure.available
        rows = [(ids[sku].product_id, units) for sku, units in totals.items()]
        try:
            self.client(connector).stock_set(rows)
        except RemoteNotFound as unknown:
            products = set(unknown.ids)
            skus = [sku for sku in totals if ids[sku].product_id in products]
            raise RemoteNotFound(str(unknown), ids=sorted(skus)) from unknown

    def orders_updated_since(self, *, connector: Any, since: datetime) -> list[Payload]:
        return list(self.client(connector).orders_updated_since(since))

    def remote_ids_lookup(self, *, connector: Any, skus: Sequence[str]) -> dict[str, RemoteIds]:
        found = self.client(connector).products_by_sku(skus)
        return {sku: RemoteIds(sku=sku, product_id=ids["product"]) for sku, ids in found.items()}
