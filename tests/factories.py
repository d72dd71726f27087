"""factory-boy factories for the whole suite."""

import factory
from django.contrib.auth import get_user_model

from inventory.models import Location, Product, StockLevel


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"LOC-{n:03d}")
    name = factory.Sequence(lambda n: f"Location {n}")
    kind = Location.Kind.WAREHOUSE
    lat = 48.8566
    lon = 2.3522
    ships = True
    shipment_cost = "5.00"
    cost_per_km = "0.0050"
    unit_cost = "0.30"


class StoreFactory(LocationFactory):
    code = factory.Sequence(lambda n: f"ST-{n:03d}")
    kind = Location.Kind.STORE
    click_and_collect = True


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A bare stock row. Put units on hand through `inventory.services.stock_receive`, so the
    ledger balances."""

    class Meta:
        model = StockLevel

    product = factory.SubFactory(ProductFactory)
    location = factory.SubFactory(LocationFactory)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Channel"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.Sequence(lambda n: f"Channel {n}")
    active = True
