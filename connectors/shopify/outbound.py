"""Calls back to a Shopify shop: shipments, stock, and orders updated since a moment.

GraphQL Admin API, version pinned in `API_VERSION`, authenticated by the app's access token
(`X-Shopify-Access-Token`). Shopify meters GraphQL by cost: every answer carries
`extensions.cost.throttleStatus` (a bucket of points refilled at `restoreRate` a second),
and a call that costs more than is left is answered `THROTTLED` (HTTP 200) or 429. Both
become `RemoteThrottled` with the wait the bucket needs; a bucket running low after a call
sets `pause_seconds`, so that the caller spaces its next call instead of being refused.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.adapters.base import Payload, RemoteIds, ShipmentOut, StockFigure
from connectors.remote import (
    RemoteNotFound,
    RemoteRefused,
    RemoteThrottled,
    call,
)

API_VERSION = "2025-10"
# Keep this many points in the bucket: a stock batch costs about 10 + 1 per row.
BUCKET_RESERVE = 100.0
# A wait the bucket needs that is at most this long is slept in place; a longer one is
# left to the sender's next round.
PAUSE_IN_PLACE_SECONDS = 2.0
# One inventorySetQuantities takes at most 250 quantities; one search at most this many SKUs.
STOCK_BATCH = 250
LOOKUP_BATCH = 50

VARIANTS_BY_SKU = """
query VariantsBySku($query: String!, $first: Int!) {
  productVariants(first: $first, query: $query) {
    nodes { id sku inventoryItem { id } }
  }
}"""

INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

ORDER_FULFILMENT = """
query OrderFulfilment($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 50) {
      id
      location { id }
      trackingInfo { number company }
      fulfillmentLineItems(first: 100) { nodes { quantity lineItem { sku } } }
    }
    fulfillmentOrders(first: 20) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 100) { nodes { id sku remainingQuantity } }
      }
    }
  }
}"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

ORDERS_SINCE = """
query OrdersSince($query: String!, $after: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name email phone createdAt updatedAt cancelledAt currencyCode
      lineItems(first: 250) {
        nodes {
          id sku quantity currentQuantity requiresShipping name
          originalUnitPriceSet { shopMoney { amount currencyCode } }
        }
      }
      shippingLines(first: 5) { nodes { code title } }
      shippingAddress {
        name firstName lastName address1 address2 city zip countryCodeV2 phone
        latitude longitude
      }
    }
  }
}"""


def order_gid(external_id: str) -> str:
    """Return the GraphQL id of an order from the id its webhooks carry."""
    return external_id if external_id.startswith("gid://") else f"gid://shopify/Order/{external_id}"


def location_gid(remote: str) -> str:
    if not remote:
        return ""
    return remote if remote.startswith("gid://") else f"gid://shopify/Location/{remote}"


def _assigned_location(fulfillment_order: dict) -> str:
    """Return the id of the location Shopify assigned a fulfillment order to, or ""."""
    assigned = fulfillment_order.get("assignedLocation") or {}
    return str((assigned.get("location") or {}).get("id") or "")


class ShopifyOutbound:
    """One shop's Admin API, as the connector's calls back use it."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self.access_token = access_token
        self.sleep = sleep
        # After a call: how long to wait before the next, for the bucket to refill.
        self.pause_seconds = 0.0

    def graphql(self, query: str, variables: dict[str, Any]) -> dict:
        """Run one operation; return its `data`, or raise a RemoteError."""
        if self.pause_seconds > PAUSE_IN_PLACE_SECONDS:
            raise RemoteThrottled(
                "Shopify: waiting for the GraphQL cost budget to refill.",
                retry_after=self.pause_seconds,
            )
        if self.pause_seconds > 0:
            self.sleep(self.pause_seconds)
            self.pause_seconds = 0.0
        reply = call(
            method="POST",
            url=self.url,
            headers={"X-Shopify-Access-Token": self.access_token},
            body={"query": query, "variables": variables},
        )
        body = reply.body if isinstance(reply.body, dict) else {}
        throttle = ((body.get("extensions") or {}).get("cost") or {}).get("throttleStatus") or {}
        requested = ((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost")
        available = float(throttle.get("currentlyAvailable", 1e9))
        rate = float(throttle.get("restoreRate") or 50.0)
        errors = body.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            need = float(requested or BUCKET_RESERVE) - available
            raise RemoteThrottled(
                "Shopify: throttled (GraphQL cost budget spent).",
                retry_after=max(need / rate, 1.0),
            )
        if errors:
            raise RemoteRefused("Shopify: " + "; ".join(str(e.get("message")) for e in errors))
        self.pause_seconds = max(BUCKET_RESERVE - available, 0.0) / rate
        return body.get("data") or {}

    # -- remote ids --------------------------------------------------------------------

    def variants_by_sku(self, skus: Sequence[str]) -> dict[str, dict[str, str]]:
        """Return `{sku: {"product": variant id, "inventory_item": item id}}` of the SKUs
        the shop sells; the others are left out."""
        found: dict[str, dict[str, str]] = {}
        skus = list(dict.fromkeys(skus))
        for start in range(0, len(skus), LOOKUP_BATCH):
            chunk = skus[start : start + LOOKUP_BATCH]
            search = " OR ".join(
                "sku:'{}'".format(s.replace("\\", "\\\\").replace("'", "\\'")) for s in chunk
            )
            data = self.graphql(VARIANTS_BY_SKU, {"query": search, "first": 250})
            wanted = set(chunk)
            for node in (data.get("productVariants") or {}).get("nodes") or []:
                sku = node.get("sku")
                if sku in wanted and sku not in found:
                    found[sku] = {
                        "product": node["id"],
                        "inventory_item": (node.get("inventoryItem") or {}).get("id", ""),
                    }
        return found

    # -- stock ---------------------------------------------------------------------------

    def stock_set(self, rows: Sequence[tuple[str, str, int]]) -> None:
        """Set `available` to each `(inventory item, location, quantity)`, absolutely: sent
        twice, it changes nothing the second time. Raise RemoteNotFound naming the inventory
        items the shop does not know (it then applies none of the batch)."""
        for start in range(0, len(rows), STOCK_BATCH):
            chunk = rows[start : start + STOCK_BATCH]
            data = self.graphql(
                INVENTORY_SET,
                {
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "ignoreCompareQuantity": True,
                        "quantities": [
                            {
                                "inventoryItemId": item,
                                "locationId": location_gid(location),
                                "quantity": quantity,
                            }
                            for item, location, quantity in chunk
                        ],
                    }
                },
            )
            errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
            missing = []
            for error in errors:
                if error.get("code") == "INVALID_INVENTORY_ITEM":
                    index = _index(error.get("field"))
                    if index is not None and index < len(chunk):
                        missing.append(chunk[index][0])
            if missing:
                raise RemoteNotFound(
                    "Shopify does not know inventory items " + ", ".join(missing), ids=missing
                )
            if errors:
                raise RemoteRefused("Shopify: " + "; ".join(e.get("message", "") for e in errors))

    # -- shipments -----------------------------------------------------------------------

    def shipment_send(
        self,
        *,
        external_id: str,
        lines: Sequence[tuple[str, int]],
        carrier: str,
        tracking_number: str,
        remote_location_id: str = "",
    ) -> str:
        """Fulfil `lines` (`(sku, quantity)`) of the order on its open fulfillment orders,
        with the carrier and tracking number; return what was done, for people.

        Shopify splits an order into fulfillment orders, one per location it assigned
        lines to, and one fulfillmentCreate takes fulfillment orders of one location only.
        The units are taken from the fulfillment orders at `remote_location_id` (where the
        parcel left from) first, then from the others that still have them open; one
        fulfillmentCreate is made per location, each naming its fulfillment order line
        items and units.

        Sent again (an answer lost on the way, or a second location's call refused after
        the first went through), the units the order's fulfillments already carry under
        this tracking number are left out: nothing is fulfilled twice.
        """
        data = self.graphql(ORDER_FULFILMENT, {"id": order_gid(external_id)})
        order = data.get("order")
        if order is None:
            raise RemoteNotFound(f"Shopify has no order {external_id}.")
        wanted: dict[str, int] = defaultdict(int)
        for sku, quantity in lines:
            wanted[sku] += quantity
        already = []
        for fulfillment in order.get("fulfillments") or []:
            numbers = {info.get("number") for info in fulfillment.get("trackingInfo") or []}
            if tracking_number not in numbers:
                continue
            already.append(fulfillment["id"])
            for item in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []:
                done_sku = (item.get("lineItem") or {}).get("sku")
                if done_sku in wanted:
                    wanted[done_sku] -= int(item.get("quantity") or 0)
        if already and all(units <= 0 for units in wanted.values()):
            return f"already on the order as {', '.join(already)}"
        by_location = self._units_by_location(order, wanted, location_gid(remote_location_id))
        if not by_location:
            if already:
                return f"already on the order as {', '.join(already)}"
            return "nothing left open to fulfil on Shopify: fulfilled there already"
        made = []
        for by_order in by_location.values():
            data = self.graphql(
                FULFILLMENT_CREATE,
                {
                    "fulfillment": {
                        "lineItemsByFulfillmentOrder": [
                            {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": items}
                            for fo, items in by_order.items()
                        ],
                        "notifyCustomer": True,
                        "trackingInfo": {"company": carrier, "number": tracking_number},
                    }
                },
            )
            created = data.get("fulfillmentCreate") or {}
            errors = created.get("userErrors") or []
            if errors:
                raise RemoteRefused("Shopify: " + "; ".join(e.get("message", "") for e in errors))
            made.append(str((created.get("fulfillment") or {}).get("id")))
        note = f"fulfilled as {', '.join(made)}"
        if already:
            note += f" (and earlier as {', '.join(already)})"
        return note

    @staticmethod
    def _units_by_location(
        order: dict, wanted: Mapping[str, int], here: str
    ) -> dict[str, dict[str, list[dict]]]:
        """Return `{location: {fulfillment order: [{"id", "quantity"}]}}` covering `wanted`
        from the open fulfillment orders, those assigned to `here` first; the location that
        shipped comes first."""
        left = {sku: units for sku, units in wanted.items() if units > 0}
        open_orders = [
            fo
            for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []
            if fo.get("status") in ("OPEN", "IN_PROGRESS")
        ]
        # A stable sort: Shopify's own order among the others.
        open_orders.sort(key=lambda fo: _assigned_location(fo) != here)
        by_location: dict[str, dict[str, list[dict]]] = {}
        for fo in open_orders:
            for item in (fo.get("lineItems") or {}).get("nodes") or []:
                sku = item.get("sku")
                take = min(left.get(sku, 0), int(item.get("remainingQuantity") or 0))
                if take > 0:
                    by_order = by_location.setdefault(_assigned_location(fo), {})
                    by_order.setdefault(fo["id"], []).append({"id": item["id"], "quantity": take})
                    left[sku] -= take
        return by_location

    # -- reconciliation ------------------------------------------------------------------

    def orders_updated_since(self, since: datetime) -> Iterator[dict]:
        """Yield the shop's orders updated after `since`, oldest change first, as webhook
        payloads (REST shape: what `orders/updated` would have sent), with `updated_at`."""
        search = "updated_at:>'{}'".format(since.isoformat().replace("+00:00", "Z"))
        after = None
        while True:
            data = self.graphql(ORDERS_SINCE, {"query": search, "after": after})
            page = data.get("orders") or {}
            for node in page.get("nodes") or []:
                yield webhook_shape(node)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")


class ShopifyOutboundAdapter:
    """The outbound half of the Shopify connector (connectors.adapters.base)."""

    kind = "shopify"

    @staticmethod
    def client(connector: Any) -> ShopifyOutbound:
        return ShopifyOutbound(base_url=connector.base_url, access_token=connector.access_token())

    def shipment_push(self, *, connector: Any, shipment: ShipmentOut) -> str:
        return self.client(connector).shipment_send(
            external_id=shipment.remote_order_id,
            lines=shipment.lines,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            remote_location_id=shipment.remote_location_id,
        )

    def stock_push(
        self, *, connector: Any, figures: Sequence[StockFigure], ids: Mapping[str, RemoteIds]
    ) -> None:
        """Set each figure at its Shopify location. RemoteNotFound names the SKUs whose
        inventory item Shopify no longer knows."""
        rows = [
            (ids[figure.sku].inventory_item_id, figure.remote_location_id, figure.available)
            for figure in figures
        ]
        try:
            self.client(connector).stock_set(rows)
        except RemoteNotFound as unknown:
            items = set(unknown.ids)
            skus = [f.sku for f in figures if ids[f.sku].inventory_item_id in items]
            raise RemoteNotFound(str(unknown), ids=sorted(set(skus))) from unknown

    def orders_updated_since(self, *, connector: Any, since: datetime) -> list[Payload]:
        return list(self.client(connector).orders_updated_since(since))

    def remote_ids_lookup(self, *, connector: Any, skus: Sequence[str]) -> dict[str, RemoteIds]:
        found = self.client(connector).variants_by_sku(skus)
        return {
            sku: RemoteIds(
                sku=sku, variant_id=ids["product"], inventory_item_id=ids["inventory_item"]
            )
            for sku, ids in found.items()
        }


def webhook_shape(node: dict) -> dict:
    """Return an order read by GraphQL in the REST shape of Shopify's order webhooks."""
    address = node.get("shippingAddress")
    return {
        "id": int(node["legacyResourceId"]),
        "admin_graphql_api_id": node["id"],
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "currency": node.get("currencyCode"),
        "line_items": [
            {
                "id": int(str(line["id"]).rsplit("/", 1)[-1]),
                "sku": line.get("sku"),
                "name": line.get("name"),
                "quantity": line.get("quantity"),
                "current_quantity": line.get("currentQuantity", line.get("quantity")),
                "requires_shipping": line.get("requiresShipping", True),
                "price": ((line.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get(
                    "amount"
                ),
            }
            for line in (node.get("lineItems") or {}).get("nodes") or []
        ],
        "shipping_lines": [
            {"code": line.get("code"), "title": line.get("title")}
            for line in (node.get("shippingLines") or {}).get("nodes") or []
        ],
        "shipping_address": None
        if address is None
        else {
            "name": address.get("name"),
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "zip": address.get("zip"),
            "country_code": address.get("countryCodeV2"),
            "phone": address.get("phone"),
            "latitude": address.get("latitude"),
            "longitude": address.get("longitude"),
        },
    }


def _index(field: Any) -> int | None:
    """Return the row number in a user error's path `["input", "quantities", "3", ...]`."""
    if isinstance(field, list) and len(field) >= 3 and str(field[2]).isdigit():
        return int(field[2])
    return None
