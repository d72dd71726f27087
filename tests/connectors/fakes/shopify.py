"""A Shopify shop speaking the GraphQL Admin API (version 2025-10) for what the connector
asks of it.

Requests: `POST /admin/api/2025-10/graphql.json` with `X-Shopify-Access-Token` and a JSON
body `{"query", "variables"}`. The operations answered are the connector's: variants by
SKU (`productVariants(query: "sku:...")`), an order's fulfillment orders and fulfillments
(`order(id:)`), `fulfillmentCreate`, `inventorySetQuantities`, and orders updated since a
moment (`orders(query: "updated_at:>...")`). Every answer carries `extensions.cost` with
the leaky bucket's `throttleStatus` (1,000 points, 50 a second); a request costing more
than is left is answered `THROTTLED` with HTTP 200, as Shopify does. A scripted 429 comes
with `Retry-After`.

Orders are kept as Shopify's webhooks send them (REST shape, `tests/connectors/fixtures`),
and rendered as GraphQL nodes when listed. Each order has its fulfillment orders, one per
location its lines were assigned to (`order_add(..., split=...)`); `fulfillmentCreate`
takes fulfillment orders of one location only, as Shopify's does, and refuses more units
than a fulfillment order line item has left.
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import datetime

from tests.connectors.fakes.base import Answer, Call, FakeStorefront

API_VERSION = "2025-10"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
BUCKET = 1000.0
RESTORE_RATE = 50.0
COST = {"query": 10, "mutation": 10}
# Where an order's lines are assigned when a test does not split them.
DEFAULT_LOCATION = "gid://shopify/Location/1"


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


class FakeShopify(FakeStorefront):
    def __init__(self, *, token: str = "shpat_test_token_0000", real_clock: bool = False) -> None:
        super().__init__(real_clock=real_clock)
        self.token = token
        self._ids = itertools.count(1001)
        self.variants: dict[str, dict[str, str]] = {}  # sku -> {"variant", "item"}
        self.levels: dict[tuple[str, str], int] = {}  # (inventory item, location) -> available
        self.set_calls: list[list[dict]] = []  # each inventorySetQuantities' quantities
        self.set_log: list[tuple[float, list[dict]]] = []  # the same, with when it came
        self.orders: dict[int, dict] = {}  # legacy id -> {"payload", "updated_at", ...}
        self.fulfillments: list[dict] = []  # every fulfillment created
        # Locations whose next fulfillmentCreate is refused with a user error, and how often.
        self.refuse_at: dict[str, int] = {}
        self.bucket = BUCKET
        self._bucket_at: datetime | None = None

    # -- the shop's catalogue and orders, as a test sets them up --------------------

    def variant_add(self, sku: str) -> dict[str, str]:
        number = next(self._ids)
        self.variants[sku] = {
            "variant": gid("ProductVariant", number),
            "item": gid("InventoryItem", number),
        }
        return self.variants[sku]

    def variant_delete(self, sku: str) -> None:
        """The merchant deleted the product and made it again: new ids for the same SKU."""
        self.variants.pop(sku)

    def order_add(
        self,
        payload: dict,
        *,
        updated_at: datetime,
        split: dict[str, list[tuple[str, int]]] | None = None,
    ) -> None:
        """Keep an order as its webhook shows it, with its open fulfillment orders: one per
        location of `split` (`{location id: [(sku, units), ...]}`), else one at
        DEFAULT_LOCATION with every line."""
        number = int(payload["id"])
        if split is None:
            every = [(line["sku"], line["quantity"]) for line in payload["line_items"]]
            split = {DEFAULT_LOCATION: every}
        self.orders[number] = {
            "payload": payload,
            "updated_at": updated_at,
            "fulfillment_orders": [
                {
                    "id": gid("FulfillmentOrder", next(self._ids)),
                    "status": "OPEN",
                    "location": location,
                    "lines": [
                        {
                            "id": gid("FulfillmentOrderLineItem", next(self._ids)),
                            "sku": sku,
                            "remaining": units,
                        }
                        for sku, units in lines
                    ],
                }
                for location, lines in split.items()
            ],
            "fulfillments": [],
        }

    def level(self, sku: str, location: str) -> int | None:
        return self.levels.get((self.variants[sku]["item"], location))

    # -- HTTP ------------------------------------------------------------------------

    def handle(self, call: Call) -> Answer:
        if call.method != "POST" or call.path != GRAPHQL_PATH:
            return Answer(404, {"errors": "Not Found"})
        if call.headers.get("X-Shopify-Access-Token") != self.token:
            return Answer(
                401,
                {
                    "errors": "[API] Invalid API key or access token "
                    "(unrecognized login or wrong password)"
                },
            )
        body = call.json or {}
        query, variables = body.get("query", ""), body.get("variables") or {}
        kind = "mutation" if query.lstrip().startswith("mutation") else "query"
        cost = COST[kind]
        self._restore()
        if self.bucket < cost:
            return Answer(
                200,
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": self._cost(cost, None),
                },
            )
        self.bucket -= cost
        data = self._run(query, variables)
        return Answer(200, {"data": data, "extensions": self._cost(cost, cost)})

    def _restore(self) -> None:
        if self._bucket_at is not None:
            elapsed = (self.now - self._bucket_at).total_seconds()
            self.bucket = min(BUCKET, self.bucket + max(elapsed, 0) * RESTORE_RATE)
        self._bucket_at = self.now

    def _cost(self, requested: int, actual: int | None) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": BUCKET,
                    "currentlyAvailable": self.bucket,
                    "restoreRate": RESTORE_RATE,
                },
            }
        }

    def _run(self, query: str, variables: dict) -> dict:
        if "fulfillmentCreate(" in query:
            return {"fulfillmentCreate": self._fulfillment_create(variables["fulfillment"])}
        if "inventorySetQuantities(" in query:
            return {"inventorySetQuantities": self._inventory_set(variables["input"])}
        if "productVariants(" in query:
            return {"productVariants": self._variants(variables["query"])}
        if re.search(r"\borders\(", query):
            return {"orders": self._orders(variables["query"], variables.get("after"))}
        if re.search(r"\border\(", query):
            return {"order": self._order(variables["id"])}
        raise ValueError(f"the fake does not answer {query[:80]!r}")

    def _variants(self, search: str) -> dict:
        skus = re.findall(r"sku:'((?:[^'\\]|\\.)*)'", search) or re.findall(r"sku:(\S+)", search)
        nodes = [
            {"id": ids["variant"], "sku": sku, "inventoryItem": {"id": ids["item"]}}
            for sku in skus
            if (ids := self.variants.get(sku.replace("\\'", "'"))) is not None
        ]
        return {"nodes": nodes}

    def _inventory_set(self, data: dict) -> dict:
        errors = []
        if data.get("name") not in ("available", "on_hand"):
            errors.append(
                {
                    "code": "INVALID_NAME",
                    "field": ["input", "name"],
                    "message": "The quantity name must be either 'available' or 'on_hand'.",
                }
            )
        items = {ids["item"] for ids in self.variants.values()}
        for index, row in enumerate(data.get("quantities", [])):
            if row["inventoryItemId"] not in items:
                errors.append(
                    {
                        "code": "INVALID_INVENTORY_ITEM",
                        "field": ["input", "quantities", str(index), "inventoryItemId"],
                        "message": "The specified inventory item could not be found.",
                    }
                )
            elif row["quantity"] < 0:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_NEGATIVE",
                        "field": ["input", "quantities", str(index), "quantity"],
                        "message": "The quantity can't be negative.",
                    }
                )
        if errors:  # nothing is applied when one row is wrong
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        self.set_calls.append(list(data["quantities"]))
        self.set_log.append((time.time(), list(data["quantities"])))
        for row in data["quantities"]:
            self.levels[(row["inventoryItemId"], row["locationId"])] = row["quantity"]
        return {
            "inventoryAdjustmentGroup": {"id": gid("InventoryAdjustmentGroup", next(self._ids))},
            "userErrors": [],
        }

    def _order_by_gid(self, order_gid: str) -> dict | None:
        number = order_gid.rsplit("/", 1)[-1]
        return self.orders.get(int(number)) if number.isdigit() else None

    def _order(self, order_gid: str) -> dict | None:
        order = self._order_by_gid(order_gid)
        if order is None:
            return None
        return {
            "id": order_gid,
            "fulfillments": [
                {
                    "id": f["id"],
                    "location": {"id": f["location"]},
                    "trackingInfo": [{"number": f["number"], "company": f["company"]}],
                    "fulfillmentLineItems": {
                        "nodes": [
                            {"quantity": units, "lineItem": {"sku": sku}}
                            for sku, units in f["lines"]
                        ]
                    },
                }
                for f in order["fulfillments"]
            ],
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": fo["id"],
                        "status": fo["status"],
                        "assignedLocation": {"location": {"id": fo["location"]}},
                        "lineItems": {
                            "nodes": [
                                {
                                    "id": line["id"],
                                    "sku": line["sku"],
                                    "remainingQuantity": line["remaining"],
                                }
                                for line in fo["lines"]
                            ]
                        },
                    }
                    for fo in order["fulfillment_orders"]
                ]
            },
        }

    def _fulfillment_create(self, data: dict) -> dict:
        tracking = data.get("trackingInfo") or {}
        chosen = []  # (order, fulfillment order, [(line, units)])
        for pair in data["lineItemsByFulfillmentOrder"]:
            found = next(
                (
                    (order, fo)
                    for order in self.orders.values()
                    for fo in order["fulfillment_orders"]
                    if fo["id"] == pair["fulfillmentOrderId"]
                ),
                None,
            )
            if found is None:
                return _refused("Fulfillment order does not exist.")
            order, fo = found
            if fo["status"] == "CLOSED":
                return _refused("Fulfillment order is already closed.")
            by_id = {line["id"]: line for line in fo["lines"]}
            items = pair.get("fulfillmentOrderLineItems") or [
                {"id": line["id"], "quantity": line["remaining"]} for line in fo["lines"]
            ]
            taken = []
            for item in items:
                line = by_id.get(item["id"])
                if line is None or item["quantity"] > line["remaining"]:
                    return _refused("Invalid fulfillment order line item quantity requested.")
                taken.append((line, item["quantity"]))
            chosen.append((order, fo, taken))
        if len({id(order) for order, _, _ in chosen}) > 1:
            return _refused("All fulfillment orders must belong to the same order.")
        if len({fo["location"] for _, fo, _ in chosen}) > 1:
            return _refused("All fulfillment orders must be assigned to the same location.")
        location = chosen[0][1]["location"]
        if self.refuse_at.get(location):
            self.refuse_at[location] -= 1
            return _refused("The location cannot fulfill right now.")
        fulfillment_id = gid("Fulfillment", next(self._ids))
        order = chosen[0][0]
        for _, fo, taken in chosen:
            for line, units in taken:
                line["remaining"] -= units
            fo["status"] = (
                "CLOSED" if all(line["remaining"] == 0 for line in fo["lines"]) else "IN_PROGRESS"
            )
        order["fulfillments"].append(
            {
                "id": fulfillment_id,
                "number": tracking.get("number"),
                "company": tracking.get("company"),
                "location": chosen[0][1]["location"],
                "lines": [(line["sku"], units) for _, _, taken in chosen for line, units in taken],
            }
        )
        order["updated_at"] = self.now
        self.fulfillments.append(
            {
                "id": fulfillment_id,
                "trackingInfo": tracking,
                "notifyCustomer": data.get("notifyCustomer", False),
                "lineItemsByFulfillmentOrder": data["lineItemsByFulfillmentOrder"],
            }
        )
        return {"fulfillment": {"id": fulfillment_id, "status": "SUCCESS"}, "userErrors": []}

    def _orders(self, search: str, after: str | None) -> dict:
        match = re.search(r"updated_at:>'?([^'\s]+)'?", search)
        since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00")) if match else None
        chosen = sorted(
            (o for o in self.orders.values() if since is None or o["updated_at"] > since),
            key=lambda o: (o["updated_at"], int(o["payload"]["id"])),
        )
        start = int(after) if after else 0
        page = chosen[start : start + 50]
        end = start + len(page)
        return {
            "pageInfo": {"hasNextPage": end < len(chosen), "endCursor": str(end) if page else None},
            "nodes": [self._order_node(o) for o in page],
        }

    @staticmethod
    def _order_node(order: dict) -> dict:
        payload = order["payload"]
        address = payload.get("shipping_address") or None
        return {
            "id": gid("Order", payload["id"]),
            "legacyResourceId": str(payload["id"]),
            "name": payload.get("name"),
            "email": payload.get("email"),
            "phone": payload.get("phone"),
            "createdAt": payload.get("created_at"),
            "updatedAt": order["updated_at"].isoformat().replace("+00:00", "Z"),
            "cancelledAt": payload.get("cancelled_at"),
            "currencyCode": payload.get("currency"),
            "lineItems": {
                "nodes": [
                    {
                        "id": gid("LineItem", line["id"]),
                        "sku": line.get("sku"),
                        "name": line.get("name") or line.get("title"),
                        "quantity": line["quantity"],
                        "currentQuantity": line.get("current_quantity", line["quantity"]),
                        "requiresShipping": line.get("requires_shipping", True),
                        "originalUnitPriceSet": {
                            "shopMoney": {
                                "amount": line.get("price"),
                                "currencyCode": payload.get("currency"),
                            }
                        },
                    }
                    for line in payload["line_items"]
                ]
            },
            "shippingLines": {
                "nodes": [
                    {"code": line.get("code"), "title": line.get("title")}
                    for line in payload.get("shipping_lines") or []
                ]
            },
            "shippingAddress": None
            if address is None
            else {
                "name": address.get("name"),
                "firstName": address.get("first_name"),
                "lastName": address.get("last_name"),
                "address1": address.get("address1"),
                "address2": address.get("address2"),
                "city": address.get("city"),
                "zip": address.get("zip"),
                "countryCodeV2": address.get("country_code"),
                "phone": address.get("phone"),
                "latitude": address.get("latitude"),
                "longitude": address.get("longitude"),
            },
        }


def _refused(message: str) -> dict:
    return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": message}]}
