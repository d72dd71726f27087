"""Small builders for order tests: a network with stock, and orders placed through the service."""

from __future__ import annotations

from inventory.models import Location, Product, StockLevel
from inventory.services import stock_receive
from orders.inputs import LineInput, OrderInput
from orders.models import Channel, Order
from orders.services.capture import order_place
from tests.factories import LocationFactory, ProductFactory

PARIS = (48.8566, 2.3522)


def stocked(product: Product, location: Location, quantity: int) -> StockLevel:
    stock_receive(product=product, location=location, quantity=quantity, reference="test")
    return StockLevel.objects.get(product=product, location=location)


def warehouse(code: str, *, lat: float = 48.9, lon: float = 2.4, **extra) -> Location:
    return LocationFactory(
        code=code,
        lat=lat,
        lon=lon,
        shipment_cost=extra.pop("shipment_cost", "5.00"),
        cost_per_km=extra.pop("cost_per_km", "0.0050"),
        unit_cost=extra.pop("unit_cost", "0.30"),
        **extra,
    )


def place(
    lines: list[tuple[Product, int]],
    *,
    channel: str = "web",
    external_id: str = "",
    email: str = "ada@example.com",
    delivery_method: str = Order.DeliveryMethod.STANDARD,
    pickup_location: Location | None = None,
    at: tuple[float, float] = PARIS,
    reservation=None,
) -> Order:
    order, _ = order_place(
        data=OrderInput(
            channel=Channel.objects.get(code=channel),
            lines=[LineInput(product=p, quantity=q) for p, q in lines],
            external_id=external_id,
            email=email,
            name="Ada Lovelace",
            phone="+33 6 12 34 56 78",
            address={
                "line1": "1 rue de Rivoli",
                "city": "Paris",
                "postcode": "75001",
                "country": "FR",
                "lat": at[0],
                "lon": at[1],
            },
            delivery_method=delivery_method,
            pickup_location=pickup_location,
            reservation=reservation,
        )
    )
    return order


def product(sku: str) -> Product:
    return ProductFactory(sku=sku)
