"""Random sequences of receipts, adjustments, transfers, damages and counts keep the ledger whole.

A model of on_hand per place runs beside the database; after every step the database must agree
with the model, every balance must equal the sum of its movements, and none may be negative.
"""

import itertools

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from inventory.countfile import CountLine
from inventory.exceptions import InsufficientStock
from inventory.models import Location, Product, StockLevel, StockMovement
from inventory.services import stock_adjust, stock_damage, stock_receive, stock_transfer
from inventory.services.counts import stock_count_apply

PRODUCTS = 2
LOCATIONS = 3

place = st.tuples(st.integers(0, PRODUCTS - 1), st.integers(0, LOCATIONS - 1))


def _count(product, location, counted: int) -> None:
    """Count the shelf through the count service, as the admin, API and command do."""
    stock_count_apply(
        lines=[
            CountLine(
                row=1, sku=product.sku, location=location.code, quantity=counted, counted_at=None
            )
        ],
        actor=None,
    )


_runs = itertools.count()


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Examples share one test transaction: each works on products and places of its own.
        run = next(_runs)
        self.products = [
            Product.objects.create(sku=f"SM-{run}-{i}", name=f"P{i}") for i in range(PRODUCTS)
        ]
        self.locations = [
            Location.objects.create(code=f"L{run}-{i}", name=f"L{i}", lat=48.0, lon=2.0)
            for i in range(LOCATIONS)
        ]
        self.model: dict[tuple[int, int], int] = {}

    def _args(self, where):
        return self.products[where[0]], self.locations[where[1]]

    @rule(where=place, quantity=st.integers(1, 50))
    def receive(self, where, quantity):
        product, location = self._args(where)
        stock_receive(product=product, location=location, quantity=quantity)
        self.model[where] = self.model.get(where, 0) + quantity

    @rule(where=place, quantity=st.integers(-60, 60).filter(bool))
    def adjust(self, where, quantity):
        product, location = self._args(where)
        before = self.model.get(where, 0)
        if before + quantity < 0:
            with pytest.raises(InsufficientStock):
                stock_adjust(product=product, location=location, quantity=quantity, reason="r")
            return
        stock_adjust(product=product, location=location, quantity=quantity, reason="r")
        self.model[where] = before + quantity

    @rule(where=place, quantity=st.integers(1, 30))
    def damage(self, where, quantity):
        product, location = self._args(where)
        before = self.model.get(where, 0)
        if quantity > before:
            with pytest.raises(InsufficientStock):
                stock_damage(product=product, location=location, quantity=quantity)
            return
        stock_damage(product=product, location=location, quantity=quantity)
        self.model[where] = before - quantity

    @rule(
        product=st.integers(0, PRODUCTS - 1),
        source=st.integers(0, LOCATIONS - 1),
        offset=st.integers(1, LOCATIONS - 1),
        quantity=st.integers(1, 40),
    )
    def transfer(self, product, source, offset, quantity):
        destination = (source + offset) % LOCATIONS
        src, dst = (product, source), (product, destination)
        args = {
            "product": self.products[product],
            "source": self.locations[source],
            "destination": self.locations[destination],
            "quantity": quantity,
        }
        if quantity > self.model.get(src, 0):
            with pytest.raises(InsufficientStock):
                stock_transfer(**args)
            return
        stock_transfer(**args)
        self.model[src] -= quantity
        self.model[dst] = self.model.get(dst, 0) + quantity

    @rule(where=place, counted=st.integers(0, 80))
    def count(self, where, counted):
        _count(*self._args(where), counted)
        self.model[where] = counted

    @invariant()
    def balances_match_the_model_and_the_ledger(self):
        mine = StockLevel.objects.filter(product__in=self.products)
        ledger = dict(
            StockMovement.objects.filter(stock__in=mine)
            .values("stock_id")
            .annotate(total=Sum("quantity"))
            .values_list("stock_id", "total")
        )
        index = {p.pk: i for i, p in enumerate(self.products)}
        where = {loc.pk: i for i, loc in enumerate(self.locations)}
        for stock in mine:
            key = (index[stock.product_id], where[stock.location_id])
            assert stock.on_hand >= 0
            assert stock.on_hand == ledger.get(stock.pk, 0)
            assert stock.on_hand == self.model.get(key, 0)


@pytest.mark.django_db
def test_random_stock_operations_keep_the_ledger_whole():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
