"""Random sequences of receipts, counts, transfers (requested, shipped, received short or in
full, cancelled) and purchase orders (opened, received, cancelled) keep every balance whole:
on_hand is the ledger, in_transit the shipped transfers not yet received, incoming the open
purchase-order units, allocated the transfer holds; no unit is held twice."""

import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from inventory.countfile import CountLine
from inventory.exceptions import InsufficientStock
from inventory.models import Location, Product, StockLevel
from inventory.reconcile import stock_drift
from inventory.services import stock_receive
from inventory.services.counts import stock_count_apply
from supply.exceptions import LinesShort
from supply.models import PurchaseOrder, Transfer
from supply.services.purchase_orders import (
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_receive,
)
from supply.services.transfers import (
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)

PRODUCTS = 2
LOCATIONS = 3
_runs = itertools.count()


class SupplyMachine(RuleBasedStateMachine):
    requested = Bundle("requested")
    shipped = Bundle("shipped")
    purchase_orders = Bundle("purchase_orders")

    def __init__(self):
        super().__init__()
        self.run = next(_runs)
        self.products = [
            Product.objects.create(sku=f"SS-{self.run}-{i}", name=f"P{i}") for i in range(PRODUCTS)
        ]
        self.locations = [
            Location.objects.create(code=f"S{self.run}-{i}", name=f"L{i}", lat=48.0, lon=2.0)
            for i in range(LOCATIONS)
        ]
        self.numbers = itertools.count()

    @rule(
        product=st.integers(0, PRODUCTS - 1), at=st.integers(0, LOCATIONS - 1), n=st.integers(1, 40)
    )
    def receive(self, product, at, n):
        stock_receive(product=self.products[product], location=self.locations[at], quantity=n)

    @rule(
        product=st.integers(0, PRODUCTS - 1), at=st.integers(0, LOCATIONS - 1), n=st.integers(0, 30)
    )
    def count(self, product, at, n):
        stock_count_apply(
            lines=[
                CountLine(
                    row=1,
                    sku=self.products[product].sku,
                    location=self.locations[at].code,
                    quantity=n,
                    counted_at=None,
                )
            ],
            actor=None,
        )

    @rule(
        target=requested,
        product=st.integers(0, PRODUCTS - 1),
        source=st.integers(0, LOCATIONS - 1),
        offset=st.integers(1, LOCATIONS - 1),
        n=st.integers(1, 25),
    )
    def request(self, product, source, offset, n):
        try:
            transfer = transfer_create(
                source=self.locations[source],
                destination=self.locations[(source + offset) % LOCATIONS],
                lines=[TransferLineInput(product=self.products[product], quantity=n)],
            )
        except LinesShort:
            return None
        return transfer.pk

    @rule(target=shipped, transfer=consumes(requested))
    def ship(self, transfer):
        if transfer is None:
            return None
        try:
            transfer_ship(transfer_id=transfer)
        except InsufficientStock:
            # A count found fewer units on the shelf than the transfer holds.
            transfer_cancel(transfer_id=transfer)
            return None
        return transfer

    @rule(transfer=consumes(requested))
    def cancel(self, transfer):
        if transfer is not None:
            transfer_cancel(transfer_id=transfer)

    @rule(transfer=consumes(shipped), short=st.integers(0, 3))
    def arrive(self, transfer, short):
        if transfer is None:
            return
        line = Transfer.objects.get(pk=transfer).lines.select_related("product").get()
        transfer_receive(
            transfer_id=transfer, received={line.product: max(0, line.quantity - short)}
        )

    @rule(
        target=purchase_orders,
        product=st.integers(0, PRODUCTS - 1),
        at=st.integers(0, LOCATIONS - 1),
        n=st.integers(1, 30),
    )
    def purchase(self, product, at, n):
        purchase_order, _ = purchase_order_create(
            number=f"SPO-{self.run}-{next(self.numbers)}",
            supplier="Acme",
            location=self.locations[at],
            expected_on=date(2030, 1, 1),
            lines=[(self.products[product], n)],
        )
        return purchase_order.pk

    @rule(purchase_order=consumes(purchase_orders), n=st.integers(0, 40))
    def purchase_arrives(self, purchase_order, n):
        line = PurchaseOrder.objects.get(pk=purchase_order).lines.select_related("product").get()
        if n:
            purchase_order_receive(purchase_order_id=purchase_order, received={line.product: n})
        else:
            purchase_order_cancel(purchase_order_id=purchase_order)

    @invariant()
    def balances_agree_with_the_ledger_transfers_and_purchase_orders(self):
        mine = list(
            StockLevel.objects.filter(product__in=self.products).values_list("pk", flat=True)
        )
        assert stock_drift(stock_ids=mine) == []
        for row in StockLevel.objects.filter(pk__in=mine):
            assert min(row.on_hand, row.allocated, row.in_transit, row.incoming) >= 0


@pytest.mark.django_db
def test_random_supply_operations_keep_every_balance_whole():
    run_state_machine_as_test(
        SupplyMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
