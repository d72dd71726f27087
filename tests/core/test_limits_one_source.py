"""The API's input limits never exceed what the database stores: every input field that
lands in a model field takes at most that field's length, digits and bounds (its
validators, CHECK constraints and column type), so a value the serializer accepts is never
refused by the database with a 500.
"""

import msgspec
import msgspec.inspect
import pytest
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from rest_framework import serializers

from alerts.api.serializers import StockRuleInputSerializer
from alerts.models import StockRule
from core.structs import type_unwrapped
from fulfilment.api.serializers import (
    FulfilmentRejectInputSerializer,
    FulfilmentShipInputSerializer,
)
from fulfilment.api.webhook_serializers import WebhookInputSerializer
from fulfilment.models import Fulfilment
from inventory.api.serializers import (
    LocationInputSerializer,
    MovementInputSerializer,
    ProductInputSerializer,
)
from inventory.models import Location, Product, StockMovement
from orders.inputs import AddressBody, CustomerBody, LineBody, OrderBody
from orders.models import Order, OrderLine
from outbox.models import WebhookSubscription

# (serializer, model, {input field: model field}); fields of the same name map themselves.
PAIRS = [
    (ProductInputSerializer, Product, {}),
    (LocationInputSerializer, Location, {}),
    (MovementInputSerializer, StockMovement, {"sku": None, "location": None}),
    (FulfilmentShipInputSerializer, Fulfilment, {}),
    (FulfilmentRejectInputSerializer, Fulfilment, {"reason_code": None}),
    (StockRuleInputSerializer, StockRule, {"sku": None, "location": None}),
    (WebhookInputSerializer, WebhookSubscription, {"events": None, "location": None}),
]
# The order's input is a msgspec Struct (orders.inputs): the same promise, read from its types.
STRUCT_PAIRS = [
    (LineBody, OrderLine, {"sku": None}),
    (
        OrderBody,
        Order,
        {"channel": None, "pickup_location": None, "lines": None, "reservation": None},
    ),
    (
        CustomerBody,
        Order,
        {"email": "customer_email", "name": "customer_name", "phone": "customer_phone"},
    ),
    (
        AddressBody,
        Order,
        {
            "line1": "ship_line1",
            "line2": "ship_line2",
            "city": "ship_city",
            "postcode": "ship_postcode",
            "country": "ship_country",
            "lat": "ship_lat",
            "lon": "ship_lon",
        },
    ),
]
KEY_FIELDS = {"sku": Product._meta.get_field("sku"), "location": Location._meta.get_field("code")}
INTEGER_RANGE = {
    models.PositiveSmallIntegerField: (0, 32767),
    models.SmallIntegerField: (-32768, 32767),
    models.PositiveIntegerField: (0, 2**31 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
}


def _model_bounds(field: models.Field) -> tuple:
    low, high = next(
        (bounds for kind, bounds in INTEGER_RANGE.items() if isinstance(field, kind)),
        (None, None),
    )
    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value if low is None else max(low, validator.limit_value)
        if isinstance(validator, MaxValueValidator):
            high = validator.limit_value if high is None else min(high, validator.limit_value)
    return low, high


def _cases():
    for serializer_class, model, names in PAIRS:
        for name, field in serializer_class().fields.items():
            target = names.get(name, name)
            if target is None:
                continue
            try:
                model_field = model._meta.get_field(target)
            except Exception:  # an input that is not stored as such
                continue
            yield pytest.param(field, model_field, id=f"{serializer_class.__name__}.{name}")
    for serializer_class in (MovementInputSerializer, StockRuleInputSerializer):
        for name in ("sku", "location"):
            field = serializer_class().fields.get(name)
            if field is not None:
                yield pytest.param(
                    field, KEY_FIELDS[name], id=f"{serializer_class.__name__}.{name} (key)"
                )


@pytest.mark.parametrize("field, model_field", list(_cases()))
def test_an_input_field_takes_no_more_than_its_column_stores(field, model_field):
    if isinstance(field, serializers.CharField) and getattr(model_field, "max_length", None):
        assert field.max_length is not None
        assert field.max_length <= model_field.max_length
    if isinstance(field, serializers.DecimalField) and isinstance(model_field, models.DecimalField):
        assert field.max_digits <= model_field.max_digits
        assert field.decimal_places <= model_field.decimal_places
    if isinstance(field, serializers.IntegerField | serializers.FloatField):
        low, high = _model_bounds(model_field)
        if low is not None:
            assert field.min_value is not None and field.min_value >= low
        if high is not None:
            assert field.max_value is not None and field.max_value <= high


def _struct_cases():
    for struct, model, names in STRUCT_PAIRS:
        for info in msgspec.inspect.type_info(struct).fields:
            target = names.get(info.name, info.name)
            if target is None:
                continue
            try:
                model_field = model._meta.get_field(target)
            except Exception:  # an input that is not stored as such
                continue
            yield pytest.param(
                type_unwrapped(info.type), model_field, id=f"{struct.__name__}.{info.name}"
            )
    yield pytest.param(
        type_unwrapped(msgspec.inspect.type_info(LineBody).fields[0].type),
        KEY_FIELDS["sku"],
        id="LineBody.sku (key)",
    )


@pytest.mark.parametrize("kind, model_field", list(_struct_cases()))
def test_a_struct_field_takes_no_more_than_its_column_stores(kind, model_field):
    if isinstance(kind, msgspec.inspect.StrType) and getattr(model_field, "max_length", None):
        assert kind.max_length is not None
        assert kind.max_length <= model_field.max_length
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        low, high = _model_bounds(model_field)
        if low is not None:
            assert kind.ge is not None and kind.ge >= low
        if high is not None:
            assert kind.le is not None and kind.le <= high
