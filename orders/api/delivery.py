"""Delivery options and basket reservations (docs/api.md "Delivery options"; reservations are
ours to design, documented in the OpenAPI schema).

Input and output serializers apart; each view parses, calls one service, answers.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import authentication
from accounts.scoping import api_channel_allowed, api_reservations
from core.api.fields import CodeField, SkuField, StrictFloatField, StrictIntegerField
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.api.parsers import JSONParser
from core.api.values import moment, money
from core.sql import instances
from inventory.models import (
    LATITUDE_LIMIT,
    LOCATION_CODE_MAX_LENGTH,
    LONGITUDE_LIMIT,
    SKU_MAX_LENGTH,
    Location,
    Product,
)
from orders.api.serializers import (
    LineListSerializer,
    active_channel,
    coordinates_paired,
    country_format,
    skus_named_in,
    sold_product,
)
from orders.channels import channel_locations
from orders.inputs import MAX_LINES
from orders.models import (
    CHANNEL_CODE_MAX_LENGTH,
    MAX_LINE_QUANTITY,
    Channel,
    Order,
    Reservation,
)
from orders.services.delivery_options import Destination, Quote, delivery_quote
from orders.services.reservations import ReservedLine, reservation_cancel, reservation_create

# Quotes for a moment further than this from now are refused: calendars hold a year.
AT_RANGE = timedelta(days=366)

ERRORS_400 = OpenApiResponse(
    description='`{"errors": {field: [messages]}}`; line errors are a list, one per line.'
)


# Input


@extend_schema_field({"type": "string", "format": "date-time"})
class MomentField(serializers.Field):
    """An ISO 8601 time with its offset (`2026-03-02T11:59:00+01:00`), within a year of now."""

    default_error_messages = {
        "invalid": "An ISO 8601 time with an offset is required (e.g. 2026-03-02T11:59:00+01:00).",
        "naive": "Give the time with its offset (e.g. +01:00 or Z): without one it is ambiguous.",
        "range": "Quote for a moment within a year of now.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None:
            self.fail("naive")
        if abs(value - timezone.now()) > AT_RANGE:
            self.fail("range")
        return value

    def to_representation(self, value):
        return moment(value)


class QuoteLineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)

    def validate_sku(self, value: str) -> Product:
        return sold_product(self.root.context["products"], value)

    class Meta:
        list_serializer_class = LineListSerializer


class DestinationInputSerializer(serializers.Serializer):
    postcode = serializers.CharField(max_length=16, allow_blank=True, default="")
    country = serializers.CharField(
        max_length=2, allow_blank=True, default="", validators=[country_format]
    )
    lat = StrictFloatField(
        min_value=-LATITUDE_LIMIT, max_value=LATITUDE_LIMIT, allow_null=True, default=None
    )
    lon = StrictFloatField(
        min_value=-LONGITUDE_LIMIT, max_value=LONGITUDE_LIMIT, allow_null=True, default=None
    )

    def validate(self, data: dict) -> dict:
        coordinates_paired(data)
        return data


class BasketInputSerializer(serializers.Serializer):
    """A channel and its lines: what quotes and reservations share."""

    channel = CodeField(max_length=CHANNEL_CODE_MAX_LENGTH, help_text="A channel code, e.g. `web`.")
    lines = QuoteLineInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_LINES,
        error_messages={"empty": "A basket needs at least one line."},
    )

    def to_internal_value(self, data):
        # Every SKU of the body in one query, so that each line can name its own error.
        self.context["products"] = _products_named_in(data)
        return super().to_internal_value(data)

    def validate_channel(self, value: str) -> Channel:
        return active_channel(_row_named(Channel, "code", value), value)

    def validate_lines(self, lines: list[dict]) -> list[tuple[Product, int]]:
        """Merge lines of one SKU: a basket holds a product once, whatever the cart sent."""
        merged: OrderedDict[str, list] = OrderedDict()
        for line in lines:
            product = line["sku"]
            merged.setdefault(product.sku, [product, 0])[1] += line["quantity"]
        if any(quantity > MAX_LINE_QUANTITY for _, quantity in merged.values()):
            raise serializers.ValidationError(
                f"A SKU's lines add up to more than {MAX_LINE_QUANTITY} units."
            )
        return [(product, quantity) for product, quantity in merged.values()]


class DeliveryOptionsInputSerializer(BasketInputSerializer):
    destination = DestinationInputSerializer(
        help_text=(
            "Where the parcel goes. `lat`/`lon` date and price shipped methods and same day; "
            "without them click & collect stores are ranked by country and postcode."
        )
    )
    at = MomentField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Quote as at this moment (ISO 8601 with offset, within a year); now if left out.",
    )


class ReservationInputSerializer(BasketInputSerializer):
    minutes = StrictIntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="How long to hold the units; the server's default (15) if left out.",
    )
    pickup_location = CodeField(
        max_length=LOCATION_CODE_MAX_LENGTH,
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Hold the units at this click & collect store; else at shipping locations.",
    )

    def validate_minutes(self, value: int | None) -> int | None:
        ceiling = settings.OMS_RESERVATION_MAX_MINUTES
        if value is not None and value > ceiling:
            raise serializers.ValidationError(f"At most {ceiling} minutes.")
        return value

    def validate(self, data: dict) -> dict:
        code = data.get("pickup_location")
        if code:
            location = Location.objects.filter(code=code).first()
            error = None
            if location is None:
                error = f"No location with code '{code}'."
            elif not (location.active and location.click_and_collect):
                error = f"Location '{code}' does not offer click & collect."
            elif not channel_locations(data["channel"]).filter(pk=location.pk).exists():
                error = f"Location '{code}' does not serve channel '{data['channel'].code}'."
            if error:
                raise serializers.ValidationError({"pickup_location": [error]})
            data["pickup_location"] = location
        else:
            data["pickup_location"] = None
        return data


def _products_named_in(data: object) -> dict[str, Product]:
    skus = skus_named_in(data)
    if not skus:
        return {}
    return {p.sku: p for p in _rows_named(Product, "sku", skus, PRODUCT_FIELDS)}


# What quotes and reservations read of a product; its other fields are deferred.
PRODUCT_FIELDS = ("id", "sku", "price", "active", "preorder", "preorder_cap")


# Quotes are the busiest call of a shop front (every basket page asks): the channel and the
# products are read with plain SQL, which costs a third of the ORM's compiling of the same
# query (docs/performance.md, "Delivery options").
def _rows_named(model, name: str, values, field_names: tuple[str, ...] | None = None) -> list:
    values = sorted(values)
    fields = [
        field
        for field in model._meta.concrete_fields
        if field_names is None or field.attname in field_names
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    key = quote(model._meta.get_field(name).column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(model._meta.db_table)}"
            f" WHERE {key} IN ({', '.join(['%s'] * len(values))})",
            values,
        )
        return instances(model, [field.attname for field in fields], cursor.fetchall())


def _row_named(model, name: str, value):
    found = _rows_named(model, name, [value])
    return found[0] if found else None


# Output


class DeliveryOptionOutputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Order.DeliveryMethod.choices)
    location = serializers.CharField(
        allow_null=True, help_text="The pickup store's code for click_and_collect; else null."
    )
    cost = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="To the customer.")
    currency = serializers.CharField()
    promised_date = serializers.DateField(
        help_text="Delivery day, or the day the parcel is ready at the store."
    )
    shipments = serializers.IntegerField(help_text="Parcels the option sends.")


class DeliveryOptionsOutputSerializer(serializers.Serializer):
    options = DeliveryOptionOutputSerializer(many=True)


def quote_representation(quote: Quote) -> dict:
    return {
        "options": [
            {
                "method": option.method,
                "location": option.location,
                "cost": money(option.cost),
                "currency": option.currency,
                "promised_date": option.promised_date.isoformat(),
                "shipments": option.shipments,
            }
            for option in quote.options
        ]
    }


class ReservationLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    location = serializers.CharField()


class ReservationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Name it as `reservation` in the order to consume it.")
    channel = serializers.CharField()
    status = serializers.ChoiceField(
        choices=Reservation.Status.choices,
        help_text="active until it expires, is released, or an order consumes it.",
    )
    expires_at = serializers.DateTimeField()
    order = serializers.CharField(allow_null=True, help_text="The order that consumed it.")
    lines = ReservationLineOutputSerializer(many=True)
    created_at = serializers.DateTimeField()


def reservation_representation(reservation: Reservation) -> dict:
    status_now = reservation.status
    if status_now == Reservation.Status.ACTIVE and reservation.expires_at <= timezone.now():
        # Expired already, whether or not the sweep has run: its units are sellable again.
        status_now = Reservation.Status.EXPIRED
    lines = reservation.lines.select_related("product", "stock__location").order_by("line_no", "id")
    return {
        "id": str(reservation.public_id),
        "channel": reservation.channel.code,
        "status": str(status_now),
        "expires_at": moment(reservation.expires_at),
        "order": reservation.order.number if reservation.order_id else None,
        "lines": [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "location": line.stock.location.code,
            }
            for line in lines
        ],
        "created_at": moment(reservation.created_at),
    }


# Views


class DeliveryOptionsView(APIView):
    authentication_classes = authentication.authentication_classes()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Quote delivery options for a basket",
        description=(
            "Every method the network can serve now, each with its promised date and its "
            "cost to the customer; nothing is held (see reservations). Rules: "
            "`click_and_collect` at the nearest stores with click & collect that have the "
            "whole basket (at most `OMS_PICKUP_OPTIONS_MAX`), ready the same day before the "
            "store's cutoff, else its next open day; `same_day` from a shipping location "
            "within `OMS_SAME_DAY_RADIUS_KM` that has the whole basket, before its cutoff; "
            "`express` and `standard` from the cheapest sourcing plan, dated by its slowest "
            "parcel (processing days and cutoff of each location, in its time zone, its "
            "closed days, and the fastest carrier service's transit days for the distance). "
            "A method with no price for the channel is not offered. Prices are flat, free "
            "from the basket value (catalogue prices) the channel sets. `at` quotes for "
            "another moment."
        ),
        request=DeliveryOptionsInputSerializer,
        responses={200: DeliveryOptionsOutputSerializer, 400: ERRORS_400},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        serializer = DeliveryOptionsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _own_channel(request, data["channel"])
        destination = data["destination"]
        quote = delivery_quote(
            channel=data["channel"],
            lines=data["lines"],
            destination=Destination(
                lat=destination["lat"],
                lon=destination["lon"],
                postcode=destination["postcode"],
                country=destination["country"].upper(),
            ),
            at=data["at"] or timezone.now(),
        )
        return Response(quote_representation(quote))


class ReservationListView(APIView):
    authentication_classes = authentication.authentication_classes()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Hold stock for a basket",
        description=(
            "Holds the units for `minutes` (default 15): `available` drops for everyone "
            "else at once. All or nothing: a basket the network cannot hold whole is a 409 "
            "naming the lines short. An order that names the reservation's `id` as "
            "`reservation` consumes it; from `expires_at` on its units are sellable again, "
            "even before the periodic sweep releases them."
        ),
        request=ReservationInputSerializer,
        responses={
            201: ReservationOutputSerializer,
            400: ERRORS_400,
            409: OpenApiResponse(description='Not enough stock: `{"errors": {"lines": [...]}}`.'),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        serializer = ReservationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _own_channel(request, data["channel"])
        reservation = reservation_create(
            channel=data["channel"],
            lines=[ReservedLine(product, quantity) for product, quantity in data["lines"]],
            minutes=data["minutes"],
            pickup_location=data["pickup_location"],
            actor=request.user,
        )
        return Response(reservation_representation(reservation), status=status.HTTP_201_CREATED)


def _own_channel(request, channel: Channel) -> None:
    """Refuse a channel outside the caller's scope: 400 on `channel`."""
    if not api_channel_allowed(request.user, channel.pk):
        raise serializers.ValidationError(
            {"channel": ["This token quotes and holds stock for its own channels only."]}
        )


def _reservation(reservation_id: str, user) -> Reservation:
    try:
        public_id = uuid.UUID(reservation_id)
    except ValueError:
        public_id = None
    # Another caller's reservation is not there for a scoped one: 404.
    reservations = api_reservations(Reservation.objects.filter(public_id=public_id), user)
    reservation = reservations.select_related("channel", "order").first() if public_id else None
    if reservation is None:
        raise NotFound(f"No reservation '{reservation_id}'.")
    return reservation


class ReservationDetailView(APIView):
    authentication_classes = authentication.authentication_classes()

    @extend_schema(
        summary="Show a reservation",
        description="`status` reads `expired` from `expires_at` on, whether swept or not.",
        responses={200: ReservationOutputSerializer, 404: OpenApiResponse(description="Unknown.")},
    )
    def get(self, request, reservation_id: str):
        return Response(reservation_representation(_reservation(reservation_id, request.user)))

    @extend_schema(
        summary="Release a reservation",
        description=(
            "Gives the units back at once. Releasing a released or expired reservation "
            "answers 204 again; one consumed by an order is a 409."
        ),
        responses={
            204: OpenApiResponse(description="Released."),
            404: OpenApiResponse(description="Unknown."),
            409: OpenApiResponse(description="Consumed by an order."),
        },
    )
    def delete(self, request, reservation_id: str):
        reservation_cancel(reservation=_reservation(reservation_id, request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)
