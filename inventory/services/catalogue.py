"""The catalogue and the network: products and locations.

Natural keys (`sku`, `code`) are unique ignoring case, kept in their normal form
(core.text), and never change once created: integrations, URLs and the ledger refer to
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from core.exceptions import DomainError
from core.text import TextRefused, code_normalise
from inventory.models import Location, Product

# The fields an update may change; the natural key is not among them.
PRODUCT_UPDATABLE = frozenset({"name", "barcode", "price", "active", "preorder", "preorder_cap"})
LOCATION_UPDATABLE = frozenset(
    {
        "name",
        "kind",
        "lat",
        "lon",
        "address",
        "city",
        "postcode",
        "country",
        "time_zone",
        "ships",
        "click_and_collect",
        "priority",
        "shipment_cost",
        "cost_per_km",
        "unit_cost",
        "processing_days",
        "cutoff_time",
        "active",
    }
)


def product_create(
    *,
    sku: str,
    name: str,
    barcode: str = "",
    price: Decimal | None = None,
    active: bool = True,
    preorder: bool = False,
    preorder_cap: int = 0,
) -> Product:
    """Create a product; refuse a SKU that already exists in any case (400 on `sku`)."""
    sku = _key(sku, field="sku", what="A SKU")
    try:
        with transaction.atomic(durable=True):
            return Product.objects.create(
                sku=sku,
                name=name,
                barcode=barcode,
                price=price,
                active=active,
                preorder=preorder,
                preorder_cap=preorder_cap,
            )
    except IntegrityError:
        # The unique index decides, so two concurrent creators cannot both win.
        existing = Product.objects.filter(sku__iexact=sku).values_list("sku", flat=True).first()
        if existing is not None:
            raise DomainError(
                f"A product with sku '{existing}' already exists (SKUs are compared ignoring "
                "case).",
                field="sku",
                code="duplicate",
            ) from None
        raise


@transaction.atomic(durable=True)
def product_update(*, product: Product, changes: Mapping[str, Any]) -> Product:
    """Change the given fields of a product (not its SKU)."""
    fields = _updatable(changes, PRODUCT_UPDATABLE)
    if not fields:
        return product
    for field in fields:
        setattr(product, field, changes[field])
    product.save(update_fields=[*fields, "updated_at"])
    return product


def location_create(
    *,
    code: str,
    name: str,
    kind: str,
    lat: float,
    lon: float,
    ships: bool = True,
    click_and_collect: bool = False,
    priority: int = 100,
    shipment_cost: Decimal = Decimal("0"),
    cost_per_km: Decimal = Decimal("0"),
    unit_cost: Decimal = Decimal("0"),
    processing_days: int = 1,
    cutoff_time: time = time(14, 0),
    address: str = "",
    city: str = "",
    postcode: str = "",
    country: str = "",
    time_zone: str = "Europe/Paris",
    active: bool = True,
) -> Location:
    """Create a location; refuse a code that already exists in any case (400 on `code`)."""
    code = _key(code, field="code", what="A location code")
    try:
        with transaction.atomic(durable=True):
            return Location.objects.create(
                code=code,
                name=name,
                kind=kind,
                lat=lat,
                lon=lon,
                ships=ships,
                click_and_collect=click_and_collect,
                priority=priority,
                shipment_cost=shipment_cost,
                cost_per_km=cost_per_km,
                unit_cost=unit_cost,
                processing_days=processing_days,
                cutoff_time=cutoff_time,
                address=address,
                city=city,
                postcode=postcode,
                country=country,
                time_zone=time_zone,
                active=active,
            )
    except IntegrityError:
        existing = Location.objects.filter(code__iexact=code).values_list("code", flat=True).first()
        if existing is not None:
            raise DomainError(
                f"A location with code '{existing}' already exists (codes are compared "
                "ignoring case).",
                field="code",
                code="duplicate",
            ) from None
        raise


@transaction.atomic(durable=True)
def location_update(*, location: Location, changes: Mapping[str, Any]) -> Location:
    """Change the given fields of a location (not its code)."""
    fields = _updatable(changes, LOCATION_UPDATABLE)
    if not fields:
        return location
    for field in fields:
        setattr(location, field, changes[field])
    location.save(update_fields=[*fields, "updated_at"])
    return location


def _key(value: str, *, field: str, what: str) -> str:
    try:
        return code_normalise(value, what=what)
    except TextRefused as refused:
        raise DomainError(str(refused), field=field) from None


def _updatable(changes: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(f"'{field}' cannot be changed.", field=field)
    return sorted(changes)
