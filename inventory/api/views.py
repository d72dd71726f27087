"""Catalogue, network, stock and availability endpoints.

docs/api.md, "Catalogue and network" and "Stock".

Each view parses its input, calls one service or selector, and renders the answer.
"""

from django.apps import apps
from django.db import DataError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import api_location_rows, location_allowed, scope_for
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent, ledger_idempotency_key
from core.text import code_lookup_form
from inventory.api import filters
from inventory.api.serializers import (
    AvailabilityQuerySerializer,
    LocationInputSerializer,
    LocationOutputSerializer,
    LocationUpdateInputSerializer,
    MovementInputSerializer,
    ProductInputSerializer,
    ProductOutputSerializer,
    ProductUpdateInputSerializer,
    StockAfterMovementOutputSerializer,
    StockOutputSerializer,
)
from inventory.models import Location, Product
from inventory.selectors import availability_for_skus, stock_rows
from inventory.services.catalogue import (
    location_create,
    location_update,
    product_create,
    product_update,
)
from inventory.services.ledger import stock_movement_record


def _product(sku: str) -> Product:
    # Looked up in the form SKUs are kept in (core.text); a form no SKU can have (an
    # invisible character, NUL that PostgreSQL refuses even to compare) finds none.
    key = code_lookup_form(sku)
    product = Product.objects.filter(sku=key).first() if key is not None else None
    if product is None:
        raise NotFound(f"No product with sku '{sku}'.")
    return product


def _location(code: str, user) -> Location:
    # Another location is not there for a caller scoped to its own: 404.
    key = code_lookup_form(code)
    visible = api_location_rows(Location.objects.filter(code=key), user, "")
    location = visible.first() if key is not None else None
    if location is None:
        raise NotFound(f"No location with code '{code}'.")
    return location


def _parse(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ProductListView(generics.ListAPIView):
    queryset = Product.objects.all()
    serializer_class = ProductOutputSerializer
    filterset_class = filters.ProductFilter

    @extend_schema(
        summary="List products",
        description="`?sku=` finds one product by SKU.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a product",
        description="A SKU that already exists is a 400 on `sku`.",
        request=ProductInputSerializer,
        responses={201: ProductOutputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        product = product_create(**_parse(ProductInputSerializer, request.data))
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailView(APIView):
    @extend_schema(summary="Show a product", responses={200: ProductOutputSerializer})
    def get(self, request, sku: str):
        product = _product(sku)
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(
        summary="Change a product",
        description="Any of the fields; the SKU does not change.",
        request=ProductUpdateInputSerializer,
        responses={200: ProductOutputSerializer},
    )
    def patch(self, request, sku: str):
        product = _product(sku)
        changes = _parse(ProductUpdateInputSerializer, request.data, partial=True)
        product = product_update(product=product, changes=changes)
        return Response(ProductOutputSerializer(product).data)


class LocationListView(generics.ListAPIView):
    queryset = Location.objects.all()
    serializer_class = LocationOutputSerializer
    filterset_class = filters.LocationFilter

    def get_queryset(self):
        return api_location_rows(super().get_queryset(), self.request.user, "")

    @extend_schema(summary="List locations")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a location",
        description=(
            'Money fields are decimal strings (`"4.50"`); `cutoff_time` is `"HH:MM"` in '
            "the location's time zone. A code that already exists is a 400 on `code`."
        ),
        request=LocationInputSerializer,
        responses={201: LocationOutputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        location = location_create(**_parse(LocationInputSerializer, request.data))
        return Response(LocationOutputSerializer(location).data, status=status.HTTP_201_CREATED)


class LocationDetailView(APIView):
    @extend_schema(summary="Show a location", responses={200: LocationOutputSerializer})
    def get(self, request, code: str):
        location = _location(code, request.user)
        return Response(LocationOutputSerializer(location).data)

    @extend_schema(
        summary="Change a location",
        description="Any of the fields; the code does not change.",
        request=LocationUpdateInputSerializer,
        responses={200: LocationOutputSerializer},
    )
    def patch(self, request, code: str):
        location = _location(code, request.user)
        changes = _parse(LocationUpdateInputSerializer, request.data, partial=True)
        location = location_update(location=location, changes=changes)
        return Response(LocationOutputSerializer(location).data)


class StockListView(generics.ListAPIView):
    queryset = stock_rows()
    serializer_class = StockOutputSerializer
    filterset_class = filters.StockFilter

    def get_queryset(self):
        return api_location_rows(super().get_queryset(), self.request.user, "location")

    @extend_schema(summary="List stock rows", description="`?sku=` and `?location=` narrow it.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StockMovementView(APIView):
    @extend_schema(
        summary="Record a stock movement",
        description=(
            "Receipts, damages and transfers take a positive quantity; an adjustment is "
            "signed. A movement that would take on hand below 0 is a 400 on `quantity`. "
            "Answers the stock row after the movement."
        ),
        request=MovementInputSerializer,
        responses={201: StockAfterMovementOutputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        data = _parse(MovementInputSerializer, request.data)
        if not location_allowed(request.user, data["location"].pk):
            raise NotFound(f"No location with code '{data['location'].code}'.")
        try:
            movement = stock_movement_record(
                **data, actor=request.user, idempotency_key=ledger_idempotency_key(request)
            )
        except DataError:
            # PostgreSQL refuses a balance past 2^31 - 1; nothing was written.
            raise serializers.ValidationError(
                {"quantity": ["That would take on hand beyond what can be stored."]}
            ) from None
        stock = movement.stock
        stock.product, stock.location = data["product"], data["location"]
        stock.movement = movement
        return Response(
            StockAfterMovementOutputSerializer(stock).data, status=status.HTTP_201_CREATED
        )


class AvailabilityView(APIView):
    @extend_schema(
        summary="What can be sold, per SKU and location",
        description=(
            "`available = on_hand - allocated - safety_stock - reserved`, never below 0, "
            "summed over active locations; `reserved` counts only reservations not yet "
            "expired. With `channel`: only the locations that serve "
            "it, less its buffer (`buffer_percent` held back per location, `buffer_units` "
            "once per SKU). An unknown SKU answers 0 with no locations."
        ),
        parameters=[
            OpenApiParameter("sku", OpenApiTypes.STR, many=True, required=True),
            OpenApiParameter("channel", OpenApiTypes.STR, description="A channel code."),
        ],
        responses={
            200: OpenApiResponse(
                response={
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "available": {"type": "integer"},
                            "locations": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                            },
                            "incoming": {
                                "type": "array",
                                "description": "Units open purchase orders still expect, "
                                "by location and date, earliest first.",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "location": {"type": "string"},
                                        "date": {"type": "string", "format": "date"},
                                        "quantity": {"type": "integer"},
                                    },
                                    "required": ["location", "date", "quantity"],
                                },
                            },
                        },
                        "required": ["available", "locations", "incoming"],
                    },
                },
                description='`{"SKU": {"available": n, "locations": {"CODE": n}, "incoming": '
                '[{"location", "date", "quantity"}]}}`',
            )
        },
    )
    def get(self, request):
        query = _parse(AvailabilityQuerySerializer, request.query_params)
        scope = scope_for(request.user)
        channel = query.get("channel")
        if scope.channels is not None:
            channel = _scoped_channel(channel, scope.channels)
        answer = availability_for_skus(skus=query["sku"], channel=channel)
        if scope.locations is not None:
            answer = _at_locations(answer, scope.locations)
        return Response(answer)


def _scoped_channel(channel, own: frozenset[int]):
    """Return the channel a caller scoped to `own` channels asks about: the one it names (one
    of its own), or its only one; a 400 on `channel` otherwise."""
    if channel is None and len(own) == 1:
        # By name: channels belong to orders, above inventory.
        return apps.get_model("orders", "Channel").objects.get(pk=next(iter(own)))
    if channel is None or channel.pk not in own:
        raise serializers.ValidationError(
            {"channel": ["Name one of the channels this token is scoped to."]}
        )
    return channel


def _at_locations(answer: dict, own: frozenset[int]) -> dict:
    """Keep of an availability answer the figures of the caller's own locations."""
    codes = set(Location.objects.filter(pk__in=own).values_list("code", flat=True))
    narrowed = {}
    for sku, figures in answer.items():
        mine = {code: n for code, n in figures["locations"].items() if code in codes}
        narrowed[sku] = {**figures, "available": sum(mine.values()), "locations": mine}
        if isinstance(figures.get("incoming"), list):
            narrowed[sku]["incoming"] = [
                supply for supply in figures["incoming"] if supply.get("location") in codes
            ]
    return narrowed
