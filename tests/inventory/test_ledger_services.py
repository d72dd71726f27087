"""The stock ledger services: every change of on_hand is a movement, balances never negative."""

import pytest
from django.db import IntegrityError, transaction

from inventory.exceptions import IdempotencyConflict, InsufficientStock, InvalidQuantity
from inventory.models import StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services import (
    stock_adjust,
    stock_damage,
    stock_movement_record,
    stock_receive,
    stock_safety_stock_set,
    stock_transfer,
)
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _stock(product, location) -> StockLevel:
    return StockLevel.objects.get(product=product, location=location)


def test_stock_receive_creates_the_row_and_one_movement():
    # given
    product, location = ProductFactory(), LocationFactory()
    # when
    movement = stock_receive(product=product, location=location, quantity=12, reference="PO-1")
    # then
    stock = _stock(product, location)
    assert stock.on_hand == 12
    assert (movement.kind, movement.quantity, movement.on_hand_after) == ("receipt", 12, 12)
    assert movement.reference == "PO-1"
    assert list(StockMovement.objects.values_list("stock_id", flat=True)) == [stock.pk]


def test_stock_adjust_moves_by_a_signed_quantity_with_its_reason():
    # given
    product, location = ProductFactory(), LocationFactory()
    stock_receive(product=product, location=location, quantity=10)
    # when
    movement = stock_adjust(product=product, location=location, quantity=-3, reason="miscount")
    # then
    assert _stock(product, location).on_hand == 7
    assert (movement.quantity, movement.on_hand_after, movement.reason) == (-3, 7, "miscount")


def test_stock_damage_takes_a_positive_quantity_off_on_hand():
    # given
    product, location = ProductFactory(), LocationFactory()
    stock_receive(product=product, location=location, quantity=5)
    # when
    movement = stock_damage(product=product, location=location, quantity=2, reason="crushed")
    # then
    assert movement.quantity == -2
    assert _stock(product, location).on_hand == 3


def test_a_movement_below_zero_is_refused_and_nothing_is_written():
    # given
    product, location = ProductFactory(), LocationFactory()
    stock_receive(product=product, location=location, quantity=2)
    # when
    with pytest.raises(InsufficientStock) as error:
        stock_damage(product=product, location=location, quantity=3)
    # then
    assert "Only 2 on hand" in error.value.message
    assert error.value.field == "quantity"
    assert _stock(product, location).on_hand == 2
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "quantity"),
    [("receipt", 0), ("receipt", -1), ("damage", 0), ("adjustment", 0), ("transfer_in", -4)],
)
def test_quantities_that_make_no_sense_for_the_kind_are_refused(kind, quantity):
    # given
    product, location = ProductFactory(), LocationFactory()
    # when / then
    with pytest.raises(InvalidQuantity):
        stock_movement_record(product=product, location=location, kind=kind, quantity=quantity)
    assert not StockMovement.objects.exists()


def test_counts_and_shipments_cannot_be_posted_as_plain_movements():
    product, location = ProductFactory(), LocationFactory()
    for kind in ("count", "shipment"):
        with pytest.raises(InvalidQuantity) as error:
            stock_movement_record(product=product, location=location, kind=kind, quantity=1)
        assert error.value.field == "kind"


def test_stock_transfer_moves_both_sides_as_one_operation():
    # given
    product, paris, lyon = ProductFactory(), LocationFactory(), LocationFactory()
    stock_receive(product=product, location=paris, quantity=10)
    # when
    out, into = stock_transfer(product=product, source=paris, destination=lyon, quantity=4)
    # then
    assert (_stock(product, paris).on_hand, _stock(product, lyon).on_hand) == (6, 4)
    assert (out.kind, out.quantity, into.kind, into.quantity) == (
        "transfer_out",
        -4,
        "transfer_in",
        4,
    )
    assert out.operation == into.operation


def test_a_transfer_of_more_than_on_hand_writes_neither_side():
    # given
    product, paris, lyon = ProductFactory(), LocationFactory(), LocationFactory()
    stock_receive(product=product, location=paris, quantity=1)
    # when
    with pytest.raises(InsufficientStock):
        stock_transfer(product=product, source=paris, destination=lyon, quantity=2)
    # then
    assert _stock(product, paris).on_hand == 1
    assert StockMovement.objects.filter(kind__startswith="transfer").count() == 0


def test_a_transfer_to_the_same_location_is_refused():
    product, paris = ProductFactory(), LocationFactory()
    with pytest.raises(InvalidQuantity) as error:
        stock_transfer(product=product, source=paris, destination=paris, quantity=1)
    assert error.value.field == "destination"


def test_the_same_idempotency_key_records_one_movement():
    # given
    product, location = ProductFactory(), LocationFactory()
    first = stock_receive(product=product, location=location, quantity=5, idempotency_key="k-1")
    # when
    again = stock_receive(product=product, location=location, quantity=5, idempotency_key="k-1")
    # then
    assert again.pk == first.pk
    assert _stock(product, location).on_hand == 5


def test_an_idempotency_key_reused_for_another_movement_is_a_conflict():
    product, location = ProductFactory(), LocationFactory()
    stock_receive(product=product, location=location, quantity=5, idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):
        stock_receive(product=product, location=location, quantity=6, idempotency_key="k-1")
    assert _stock(product, location).on_hand == 5


def test_safety_stock_is_held_back_from_available():
    # given
    product, location = ProductFactory(), LocationFactory()
    stock_receive(product=product, location=location, quantity=5)
    # when
    stock = stock_safety_stock_set(product=product, location=location, safety_stock=7)
    # then
    stock.refresh_from_db()
    assert stock.safety_stock == 7
    assert stock.available == 0  # floored, never negative
    annotated = StockLevel.objects.with_available().get(pk=stock.pk)
    assert annotated.available_qty == 0


@pytest.mark.parametrize("field", ["on_hand", "allocated", "reserved", "safety_stock"])
def test_the_database_refuses_a_negative_balance(field):
    # given
    product, location = ProductFactory(), LocationFactory()
    stock_receive(product=product, location=location, quantity=1)
    # when / then: the CHECK constraint holds even for code that bypasses the services
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(product=product).update(**{field: -1})


def test_reconcile_finds_a_balance_changed_outside_the_ledger():
    # given
    product, location = ProductFactory(sku="SKU-DRIFT"), LocationFactory(code="DC-X")
    stock_receive(product=product, location=location, quantity=4)
    assert stock_drift() == []
    StockLevel.objects.filter(product=product).update(on_hand=9)
    # when
    drift = stock_drift()
    # then
    assert [(d.sku, d.location, d.field, d.recorded, d.expected) for d in drift] == [
        ("SKU-DRIFT", "DC-X", "on_hand", 9, 4)
    ]
