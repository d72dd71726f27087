"""What the order endpoints accept (…Input) and what they answer (…Output), kept apart.

Payloads name channels by `code`, products by `sku`, locations by `code` and orders by
`number`, never by database id (docs/api.md).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator, validate_email
from django.db import connection
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import CodeField, SkuField, StrictFloatField, StrictIntegerField
from core.sql import instances
from core.text import code_lookup_form
from fulfilment.api.serializers import (
    CustomerOutputSerializer,
    FulfilmentLineOutputSerializer,
    FulfilmentStatusField,
    ShippingAddressOutputSerializer,
)
from inventory.models import (
    LATITUDE_LIMIT,
    LOCATION_CODE_MAX_LENGTH,
    LONGITUDE_LIMIT,
    SKU_MAX_LENGTH,
    Allocation,
    Location,
    Product,
)
from orders.channels import channel_locations
from orders.inputs import LineInput, OrderInput, phone_digits
from orders.models import (
    CHANNEL_CODE_MAX_LENGTH,
    MAX_LINE_QUANTITY,
    Channel,
    Order,
    OrderLine,
    Reservation,
)
from orders.representation import order_representation_read

MAX_LINES = 500
DM = Order.DeliveryMethod

# ISO 4217 currencies in use (funds and precious metals left out).
ISO_4217 = frozenset(
    re.findall(
        r"[A-Z]{3}",
        """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
        BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN
        ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
        ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
        MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
        PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
        SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES
        VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
        """,
    )
)


def currency_code(value: str) -> str:
    """Return `value` as an ISO 4217 code in capitals; refuse one not in use."""
    if value.upper() not in ISO_4217:
        raise DjangoValidationError(f"'{value}' is not an ISO 4217 currency code (e.g. EUR).")
    return value.upper()


country_format = RegexValidator(
    r"^[A-Za-z]{2}$", "An ISO 3166 country code: two letters (e.g. FR)."
)
phone_format = RegexValidator(
    r"^\+?[0-9 ().\-/]*$", "A phone number: digits, spaces, + ( ) . - / only."
)


# Input


class CustomerInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=255, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=32, allow_blank=True, default="", validators=[phone_format]
    )

    def validate_phone(self, value: str) -> str:
        if value and not 4 <= len(phone_digits(value)) <= 20:
            raise serializers.ValidationError("A phone number has 4 to 20 digits.")
        return value


def coordinates_paired(data: dict) -> None:
    """Refuse a point given by one coordinate only: a 400 on the one missing."""
    if (data["lat"] is None) != (data["lon"] is None):
        missing = "lat" if data["lat"] is None else "lon"
        raise serializers.ValidationError({missing: ["Give lat and lon together, or neither."]})


class ShippingAddressInputSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, allow_blank=True, allow_null=True, default="")
    city = serializers.CharField(max_length=128)
    postcode = serializers.CharField(max_length=16, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, validators=[country_format])
    lat = StrictFloatField(
        min_value=-LATITUDE_LIMIT, max_value=LATITUDE_LIMIT, allow_null=True, default=None
    )
    lon = StrictFloatField(
        min_value=-LONGITUDE_LIMIT, max_value=LONGITUDE_LIMIT, allow_null=True, default=None
    )

    def validate(self, data: dict) -> dict:
        coordinates_paired(data)
        data["line2"] = data["line2"] or ""
        data["country"] = data["country"].upper()
        return data


class LineListSerializer(serializers.ListSerializer):
    """Answer line errors as a list with one entry per line (`[{}, {"sku": [...]}]`).

    DRF 3.18 defaults to `{"1": {...}}` (LIST_SERIALIZER_ERRORS_AS_DICT); the order API
    promises the list, whatever that project-wide setting says.
    """

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if isinstance(detail, dict) and detail and all(isinstance(k, int) for k in detail):
                raise serializers.ValidationError(
                    [detail.get(index, {}) for index in range(len(data))]
                ) from None
            raise


class LineInputSerializer(serializers.Serializer):
    sku = SkuField(max_length=SKU_MAX_LENGTH)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        default=Decimal("0"),
        help_text='Decimal string ("19.90") or number; 0 when left out.',
    )

    def validate_sku(self, value: str) -> Product:
        products = self.root.context.get("products")
        if products is None:  # used on its own, without the order serializer's reading
            products = {p.sku: p for p in Product.objects.filter(sku=value)}
        return sold_product(products, value)

    class Meta:
        list_serializer_class = LineListSerializer


class OrderInputSerializer(serializers.Serializer):
    channel = CodeField(max_length=CHANNEL_CODE_MAX_LENGTH, help_text="A channel code, e.g. `web`.")
    external_id = serializers.CharField(
        max_length=128,
        allow_blank=True,
        default="",
        help_text=(
            "The order's id in the channel. The same channel + external_id sent again "
            "answers 200 with the existing order."
        ),
    )
    customer = CustomerInputSerializer()
    shipping_address = ShippingAddressInputSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Required unless delivery_method is click_and_collect.",
    )
    delivery_method = serializers.ChoiceField(choices=DM.choices, default=DM.STANDARD)
    pickup_location = CodeField(
        max_length=LOCATION_CODE_MAX_LENGTH,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="Location code of the pickup store: required for click_and_collect only.",
    )
    currency = serializers.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    lines = LineInputSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_LINES,
        error_messages={"empty": "An order needs at least one line."},
    )
    reservation = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "The `id` of a basket reservation (POST /api/v1/reservations/) of this channel: "
            "the order consumes it. An expired one is let go and the order is allocated as "
            "any other; a consumed or released one is a 400."
        ),
    )

    def to_internal_value(self, data):
        # Every SKU of the body in one query, so that each line can name its own error.
        self.context["products"] = _products_named_in(data)
        return super().to_internal_value(data)

    def validate_reservation(self, value):
        if value is None:
            return None
        reservation = Reservation.objects.filter(public_id=value).first()
        if reservation is None:
            raise serializers.ValidationError(f"No reservation '{value}'.")
        return reservation

    def validate_channel(self, value: str) -> Channel:
        return active_channel(Channel.objects.filter(code=value).first(), value)

    def validate_currency(self, value: str) -> str:
        return currency_code(value)

    def validate(self, data: dict) -> dict:
        errors: dict[str, list[str]] = {}
        method, code = data["delivery_method"], data["pickup_location"]
        if method == DM.CLICK_AND_COLLECT:
            if not code:
                errors["pickup_location"] = ["Required for click_and_collect."]
            else:
                error = _pickup_error(code, data["channel"])
                if isinstance(error, str):
                    errors["pickup_location"] = [error]
                else:
                    data["pickup_location"] = error
        else:
            if code:
                errors["pickup_location"] = [
                    "Only for click_and_collect; leave it null for other delivery methods."
                ]
            if data["shipping_address"] is None:
                errors["shipping_address"] = [f"Required for {method} delivery."]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_order_input(self) -> OrderInput:
        data = self.validated_data
        customer = data["customer"]
        return OrderInput(
            channel=data["channel"],
            lines=[
                LineInput(
                    product=line["sku"], quantity=line["quantity"], unit_price=line["unit_price"]
                )
                for line in data["lines"]
            ],
            external_id=data["external_id"],
            email=customer["email"],
            name=customer["name"],
            phone=customer["phone"],
            address=dict(data["shipping_address"] or {}),
            delivery_method=data["delivery_method"],
            pickup_location=data["pickup_location"] or None,
            currency=data["currency"],
            reservation=data["reservation"],
        )


def order_input_parse(data) -> OrderInput | None:
    """Return the order a plainly valid body asks for, or None to let the serializer judge it.

    A shortcut past `OrderInputSerializer` for the bodies integrations send all day: it
    takes only values the serializer would take as they are (strings with no surrounding
    space, numbers of the right JSON type, known and active SKUs, shipping only), checks
    what the serializer checks, and answers what it would. Anything else, valid or not,
    gets None and goes through the serializer, which names the errors. It never accepts a
    body the serializer refuses: tests/orders/test_api_orders_input.py holds them to the
    same answers.
    """
    if type(data) is not dict:
        return None
    customer, address = data.get("customer"), data.get("shipping_address")
    lines = data.get("lines")
    if type(customer) is not dict or type(address) is not dict or type(lines) is not list:
        return None
    if not 0 < len(lines) <= MAX_LINES or data.get("pickup_location") not in (None, ""):
        return None
    if data.get("reservation") is not None:  # the serializer looks it up and names its errors
        return None
    method = data.get("delivery_method", DM.STANDARD)
    if type(method) is not str or method not in _SHIPPED:
        return None
    code = _key(data.get("channel"), CHANNEL_CODE_MAX_LENGTH)
    external_id = _text(data.get("external_id", ""), 128, blank=True)
    email = _text(customer.get("email"), 254)
    name = _text(customer.get("name", ""), 255, blank=True)
    phone = _text(customer.get("phone", ""), 32, blank=True)
    currency = _text(data.get("currency"), 3)
    shipping = _address(address)
    if None in (code, external_id, email, name, phone, currency, shipping):
        return None
    currency = currency.upper()
    if currency not in ISO_4217 or not _phone_ok(phone):
        return None
    try:
        validate_email(email)
    except DjangoValidationError:
        return None
    wanted = []
    for line in lines:
        if type(line) is not dict:
            return None
        sku, quantity = _key(line.get("sku"), SKU_MAX_LENGTH), line.get("quantity")
        price = _price(line["unit_price"]) if "unit_price" in line else Decimal("0")
        if sku is None or type(quantity) is not int or price is None:
            return None
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            return None
        wanted.append((sku, quantity, price))
    channel, products = _channel_and_products(code, {sku for sku, _, _ in wanted})
    if channel is None or not channel.active:
        return None
    if any(products.get(sku) is None or not products[sku].active for sku, _, _ in wanted):
        return None
    return OrderInput(
        channel=channel,
        lines=[
            LineInput(product=products[sku], quantity=quantity, unit_price=price)
            for sku, quantity, price in wanted
        ],
        external_id=external_id,
        email=email,
        name=name,
        phone=phone,
        address=shipping,
        delivery_method=DM(method),
        pickup_location=None,
        currency=currency,
    )


_SHIPPED = frozenset(DM.values) - {DM.CLICK_AND_COLLECT}
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What DecimalField(max_digits=12, decimal_places=2, min_value=0) takes as it is.
_PRICE = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")


def _text(value, max_length: int, *, blank: bool = False) -> str | None:
    """Return `value` if a CharField takes it unchanged (no NUL, no lone surrogate)."""
    if type(value) is not str or len(value) > max_length or value != value.strip():
        return None
    if not (value or blank) or "\x00" in value:
        return None
    if not value.isascii() and _SURROGATE.search(value):
        return None
    return value


def _key(value, max_length: int) -> str | None:
    """Return a SKU or code if the serializer's field takes it unchanged (already in its
    normal form, core.text)."""
    text = _text(value, max_length)
    if text is None or code_lookup_form(text) != text:
        return None
    return text


def _phone_ok(phone: str) -> bool:
    return not phone or (
        phone_format.regex.search(phone) is not None and 4 <= len(phone_digits(phone)) <= 20
    )


def _address(address: dict) -> dict | None:
    line1 = _text(address.get("line1"), 255)
    line2 = address.get("line2", "")
    line2 = "" if line2 is None else _text(line2, 255, blank=True)
    city = _text(address.get("city"), 128)
    postcode = _text(address.get("postcode", ""), 16, blank=True)
    country = _text(address.get("country"), 2)
    lat, lon = _degrees(address.get("lat"), 90), _degrees(address.get("lon"), 180)
    if None in (line1, line2, city, postcode, country) or _REFUSED in (lat, lon):
        return None
    if not country_format.regex.search(country) or (lat is None) != (lon is None):
        return None
    return {
        "line1": line1,
        "line2": line2,
        "city": city,
        "postcode": postcode,
        "country": country.upper(),
        "lat": lat,
        "lon": lon,
    }


_REFUSED = object()


def _degrees(value, bound: int):
    """Return a coordinate as StrictFloatField takes it, None for none, or `_REFUSED`."""
    if value is None:
        return None
    if type(value) is not int and type(value) is not float:
        return _REFUSED
    try:
        value = float(value)
    except OverflowError:
        return _REFUSED
    return value if math.isfinite(value) and -bound <= value <= bound else _REFUSED


def _price(value) -> Decimal | None:
    """Return a unit price as the line's DecimalField takes it, or None if not plainly one."""
    if type(value) is int or type(value) is float:
        value = str(value)
    if type(value) is not str or not _PRICE.fullmatch(value):
        return None
    return Decimal(value).quantize(Decimal("0.01"))


# The channel and the products of a body in one plain query: every order reads them, and the
# ORM's two reads took three times as long.
_CHANNEL_FIELDS = tuple(field.attname for field in Channel._meta.concrete_fields)
_PRODUCT_FIELDS = ("id", "sku", "name", "active")


def _channel_and_products(code: str, skus: set[str]) -> tuple[Channel | None, dict[str, Product]]:
    """Return the channel with this code (None if unknown) and the products named, by SKU."""
    columns = [f"c.{name}" for name in _CHANNEL_FIELDS] + [f"p.{name}" for name in _PRODUCT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Channel._meta.db_table} c"
            f" LEFT JOIN {Product._meta.db_table} p"
            f" ON p.sku IN ({', '.join(['%s'] * len(skus))}) WHERE c.code = %s",
            [*sorted(skus), code],
        )
        rows = cursor.fetchall()
    if not rows:
        return None, {}
    split = len(_CHANNEL_FIELDS)
    [channel] = instances(Channel, _CHANNEL_FIELDS, [rows[0][:split]])
    found = [row[split:] for row in rows if row[split] is not None]
    return channel, {product.sku: product for product in instances(Product, _PRODUCT_FIELDS, found)}


def skus_named_in(data: object) -> set[str]:
    """Return the SKUs that the lines of a raw body name and a query can take as they are,
    so that one query reads every line's product before the lines are validated."""
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        return set()
    found = set()
    for line in lines[:MAX_LINES]:
        if isinstance(line, dict) and _queryable(line.get("sku")):
            # Looked up in the form the line's field will give it (core.text).
            key = code_lookup_form(line["sku"])
            if key is not None:
                found.add(key)
    return found


def sold_product(products: dict[str, Product], sku: str) -> Product:
    """Return the product of `sku` among those read for the body; a 400 if unknown or retired."""
    product = products.get(sku)
    if product is None:
        raise serializers.ValidationError(f"Unknown SKU '{sku}'.")
    if not product.active:
        raise serializers.ValidationError(f"SKU '{sku}' is no longer sold.")
    return product


def active_channel(channel: Channel | None, code: str) -> Channel:
    """Return the channel read for `code`; a 400 if there is none or it is switched off."""
    if channel is None:
        raise serializers.ValidationError(f"Unknown channel '{code}'.")
    if not channel.active:
        raise serializers.ValidationError(f"Channel '{code}' is not active.")
    return channel


def _products_named_in(data: object) -> dict[str, Product]:
    skus = skus_named_in(data)
    return {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}


def _queryable(sku) -> bool:
    """Return whether `sku` can go into a query as it is (the fields check it properly later;
    PostgreSQL refuses NUL and lone surrogates)."""
    if not isinstance(sku, str) or not 0 < len(sku) <= 64 or "\x00" in sku:
        return False
    try:
        sku.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pickup_error(code: str, channel: Channel) -> Location | str:
    """Return the pickup store, or why it cannot be one."""
    location = Location.objects.filter(code=code).first()
    if location is None:
        return f"No location with code '{code}'."
    if not location.active:
        return f"Location '{code}' is not active."
    if not location.click_and_collect:
        return f"Location '{code}' does not offer click & collect."
    if not channel_locations(channel).filter(pk=location.pk).exists():
        return f"Location '{code}' does not serve channel '{channel.code}'."
    return location


REASON_IS_PUBLIC = "Told to the customer: it joins the public timeline (tracking page)."


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=255, allow_blank=True, default="", help_text=REASON_IS_PUBLIC
    )


class OrderLineCancelInputSerializer(serializers.Serializer):
    quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        required=False,
        allow_null=True,
        default=None,
        help_text="Units to cancel; every unshipped unit of the line when left out.",
    )
    reason = serializers.CharField(
        max_length=255, allow_blank=True, default="", help_text=REASON_IS_PUBLIC
    )


class OrderNoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=4000, help_text="An internal note, never shown to the customer."
    )


# Output
#
# The output serializers describe the order's shape for the schema; `to_representation`
# draws it with `orders.representation.order_representation`, the one function every
# answer showing an order goes through (tests/orders/test_api_orders_read.py holds the
# two to the same fields).


class LineOutputSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_no")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    allocated = serializers.IntegerField(
        read_only=True, help_text="Units held for the line: open and shipped allocations."
    )
    shipped = serializers.IntegerField(source="quantity_shipped")
    cancelled = serializers.IntegerField(source="quantity_cancelled")
    returned = serializers.IntegerField(
        source="quantity_returned",
        help_text="Units on the order's returns (cancelled returns give theirs back).",
    )

    class Meta:
        model = OrderLine
        fields = [
            "line",
            "sku",
            "name",
            "quantity",
            "allocated",
            "shipped",
            "cancelled",
            "returned",
            "unit_price",
        ]


# Named components: enums all named "status" would otherwise get hashed names.
@extend_schema_field(
    {"type": "string", "enum": ["open", "shipped"]}, component_name="AllocationStatus"
)
class AllocationStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[Allocation.Status.OPEN, Allocation.Status.SHIPPED], **kwargs)


class AllocationOutputSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="order_line.line_no")
    sku = serializers.CharField(source="order_line.product.sku")
    location = serializers.CharField(source="stock.location.code")
    quantity = serializers.IntegerField()
    status = AllocationStatusField(
        help_text="open (held) or shipped; released allocations are left out."
    )


@extend_schema_field({"type": "string", "enum": Order.Status.values}, component_name="OrderStatus")
class OrderStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Order.Status.choices, **kwargs)


class OrderFulfilmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location = serializers.CharField(source="location.code")
    status = FulfilmentStatusField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    lines = FulfilmentLineOutputSerializer(many=True)


class EventOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    message = serializers.CharField()
    public = serializers.BooleanField(help_text="Shown to the customer on the tracking page.")
    actor = serializers.CharField(
        read_only=True, allow_null=True, help_text="Username, or null for the system."
    )
    created_at = serializers.DateTimeField()


class OrderOutputSerializer(serializers.ModelSerializer):
    """An order, read from `orders_for_output()` (everything prefetched)."""

    status = OrderStatusField()
    channel = serializers.CharField(source="channel.code")
    customer = CustomerOutputSerializer(source="*")
    shipping_address = ShippingAddressOutputSerializer(source="*")
    pickup_location = serializers.CharField(source="pickup_location.code", allow_null=True)
    lines = LineOutputSerializer(source="lines.all", many=True)
    allocations = AllocationOutputSerializer(
        many=True,
        read_only=True,
        help_text="Allocations holding stock now (open) or that left with a shipment.",
    )
    fulfilments = OrderFulfilmentOutputSerializer(many=True, read_only=True)
    tracking_url = serializers.CharField(
        read_only=True, help_text="The customer's signed tracking page."
    )

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "channel",
            "external_id",
            "customer",
            "shipping_address",
            "delivery_method",
            "pickup_location",
            "currency",
            "promised_date",
            "shipping_price",
            "lines",
            "allocations",
            "fulfilments",
            "tracking_url",
            "logistics_cost",
            "needs_attention",
            "attention_reason",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance: Order) -> dict:
        return order_representation_read(
            instance, events=False, request=self.context.get("request")
        )


class OrderDetailOutputSerializer(OrderOutputSerializer):
    events = EventOutputSerializer(
        source="events.all",
        many=True,
        help_text="The timeline, oldest first; internal entries have public = false.",
    )

    class Meta(OrderOutputSerializer.Meta):
        fields = [*OrderOutputSerializer.Meta.fields, "events"]

    def to_representation(self, instance: Order) -> dict:
        return order_representation_read(instance, events=True, request=self.context.get("request"))
