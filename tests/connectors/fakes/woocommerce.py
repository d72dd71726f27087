"""A WooCommerce shop speaking the REST API v3 (`/wp-json/wc/v3/`) for what the connector
asks of it.

Authentication is HTTP Basic with the consumer key and secret (over HTTPS in real life).
Answered: `GET products?sku=A,B` (a variation's SKU answers the variation, `type`
"variation" with its `parent_id`, as WooCommerce's products endpoint does), `POST
products/batch` and `POST products/{id}/variations/batch` (`update` rows with
`stock_quantity`, at most 100; an unknown id answers its own row with an `error`, the
others are applied; an unknown product is a 404), `PUT orders/{id}` (status and
`meta_data`), `GET orders?modified_after=...&dates_are_gmt=true` (paged,
`X-WP-TotalPages`). Errors have WordPress's shape `{"code", "message", "data": {"status"}}`.
"""

from __future__ import annotations

import base64
import itertools
import math
import re
from datetime import UTC, datetime

from tests.connectors.fakes.base import Answer, Call, FakeStorefront

PREFIX = "/wp-json/wc/v3/"
BATCH_LIMIT = 100


def error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"code": code, "message": message, "data": {"status": status}})


class FakeWooCommerce(FakeStorefront):
    def __init__(
        self, *, key: str = "ck_test_0000", secret: str = "cs_test_0000", real_clock: bool = False
    ) -> None:
        super().__init__(real_clock=real_clock)
        self.auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        self._ids = itertools.count(501)
        self.products: dict[int, dict] = {}
        self.orders: dict[int, dict] = {}  # id -> the order as the REST API shows it
        self.batches: list[list[dict]] = []  # each products/batch's update rows
        self.variation_batches: list[tuple[int, list[dict]]] = []  # (product, update rows)

    def product_add(self, sku: str, *, stock: int | None = None) -> int:
        number = next(self._ids)
        self.products[number] = {
            "id": number,
            "type": "simple",
            "parent_id": 0,
            "sku": sku,
            "manage_stock": stock is not None,
            "stock_quantity": stock,
        }
        return number

    def product_add_variable(self, sku: str, variations: dict[str, int | None]) -> int:
        """Add a variable product (its own SKU, no stock of its own) and its variations
        (`{variation sku: stock or None}`); return the product's id."""
        number = next(self._ids)
        children = []
        for child_sku, stock in variations.items():
            child = next(self._ids)
            children.append(child)
            self.products[child] = {
                "id": child,
                "type": "variation",
                "parent_id": number,
                "sku": child_sku,
                "manage_stock": stock is not None,
                "stock_quantity": stock,
            }
        self.products[number] = {
            "id": number,
            "type": "variable",
            "parent_id": 0,
            "sku": sku,
            "manage_stock": False,
            "stock_quantity": None,
            "variations": children,
        }
        return number

    def variation_id(self, sku: str) -> int:
        return next(
            p["id"] for p in self.products.values() if p["sku"] == sku and p["type"] == "variation"
        )

    def product_delete(self, sku: str) -> None:
        for number, product in list(self.products.items()):
            if product["sku"] == sku:
                del self.products[number]

    def stock(self, sku: str) -> int | None:
        return next(p["stock_quantity"] for p in self.products.values() if p["sku"] == sku)

    def order_add(self, payload: dict, *, modified: datetime) -> None:
        self.orders[int(payload["id"])] = {**payload, "date_modified_gmt": _wp_time(modified)}

    def handle(self, call: Call) -> Answer:
        if not call.path.startswith(PREFIX):
            return error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        if call.headers.get("Authorization") != self.auth:
            return error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        route = call.path[len(PREFIX) :].rstrip("/")
        if call.method == "GET" and route == "products":
            return self._products(call)
        if call.method == "POST" and route == "products/batch":
            return self._batch(call.json or {})
        if call.method == "POST" and (
            match := re.fullmatch(r"products/(\d+)/variations/batch", route)
        ):
            return self._variations_batch(int(match.group(1)), call.json or {})
        if call.method == "GET" and route == "orders":
            return self._orders(call)
        if (match := re.fullmatch(r"orders/(\d+)", route)) and call.method in ("PUT", "POST"):
            return self._order_update(int(match.group(1)), call.json or {})
        return error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _products(self, call: Call) -> Answer:
        skus = set(",".join(call.query.get("sku", [""])).split(",")) - {""}
        # Listed without a SKU, only products; asked by SKU, a variation's answers too.
        found = [
            dict(p)
            for p in self.products.values()
            if (p["sku"] in skus if skus else p["type"] != "variation")
        ]
        return Answer(200, found, {"X-WP-Total": str(len(found)), "X-WP-TotalPages": "1"})

    def _batch(self, body: dict) -> Answer:
        rows = body.get("update") or []
        if len(rows) > BATCH_LIMIT:
            return error(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        self.batches.append(rows)
        return _stock_set(
            rows,
            lambda pk: p if (p := self.products.get(pk)) and p["type"] != "variation" else None,
            "woocommerce_rest_product_invalid_id",
        )

    def _variations_batch(self, number: int, body: dict) -> Answer:
        parent = self.products.get(number)
        if parent is None or parent["type"] != "variable":
            return error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        rows = body.get("update") or []
        if len(rows) > BATCH_LIMIT:
            return error(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        self.variation_batches.append((number, rows))
        return _stock_set(
            rows,
            lambda pk: v if (v := self.products.get(pk)) and v.get("parent_id") == number else None,
            "woocommerce_rest_product_variation_invalid_id",
        )

    def _order_update(self, number: int, body: dict) -> Answer:
        order = self.orders.get(number)
        if order is None:
            return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        if "status" in body:
            order["status"] = body["status"]
        meta = {m["key"]: m for m in order.setdefault("meta_data", [])}
        for item in body.get("meta_data") or []:
            meta[item["key"]] = {"id": next(self._ids), "key": item["key"], "value": item["value"]}
        order["meta_data"] = list(meta.values())
        order["date_modified_gmt"] = _wp_time(self.now)
        return Answer(200, dict(order))

    def _orders(self, call: Call) -> Answer:
        after = call.query.get("modified_after", [None])[0]
        since = datetime.fromisoformat(after) if after else None
        per_page = int(call.query.get("per_page", ["10"])[0])
        page = int(call.query.get("page", ["1"])[0])
        chosen = sorted(
            (
                o
                for o in self.orders.values()
                if since is None
                or datetime.fromisoformat(o["date_modified_gmt"]) > since.replace(tzinfo=None)
            ),
            key=lambda o: (o["date_modified_gmt"], o["id"]),
        )
        pages = max(1, math.ceil(len(chosen) / per_page))
        rows = chosen[(page - 1) * per_page : page * per_page]
        return Answer(200, rows, {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)})


def _wp_time(moment: datetime) -> str:
    """WordPress writes GMT times without an offset: 2026-12-03T09:30:00."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _stock_set(rows: list, find, invalid_code: str) -> Answer:
    """Answer a batch update of stock as WooCommerce does: each row applied to the product
    `find(id)` returns, or answered with an invalid-id error of its own."""
    answered = []
    for row in rows:
        item = find(int(row.get("id") or 0))
        if item is None:
            answered.append(
                {
                    "id": 0,
                    "error": {
                        "code": invalid_code,
                        "message": "Invalid ID.",
                        "data": {"status": 400},
                    },
                }
            )
            continue
        if "manage_stock" in row:
            item["manage_stock"] = bool(row["manage_stock"])
        if "stock_quantity" in row:
            item["stock_quantity"] = int(row["stock_quantity"])
        answered.append(dict(item))
    return Answer(200, {"update": answered})
