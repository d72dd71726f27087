"""Random receipts, orders, cancels, shipments and counts interleaved with returns (made,
received into stock, quarantine or disposal, refunded, cancelled) and exchanges (shipped at
once or held for their return) keep every balance whole: on hand is the ledger, the
quarantine the damaged units received, nothing negative, never more returned than received,
never more refunded than paid, no held exchange leaves before its return is in."""

import contextlib
import itertools
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.exceptions import DomainError
from fulfilment.models import Fulfilment
from inventory.countfile import CountLine
from inventory.models import Location, Product, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from inventory.services import stock_receive
from inventory.services.counts import stock_count_apply
from orders.models import Channel, Order, OrderLine
from orders.services.fulfilments import fulfilment_ship
from orders.services.lifecycle import order_cancel
from returns.exceptions import ReturnConflict, ReturnRejected
from returns.inputs import ExchangeLineInput, ReceiveLineInput, ReturnInput, ReturnLineInput
from returns.models import Refund, Return, ReturnLine, ReturnReceiptLine
from returns.services import return_cancel, return_create, return_receive, return_refund
from tests.orders.helpers import place

PRODUCTS = 2
LOCATIONS = 3
RS = Return.Status
# Restocking, the path through the ledger, twice as often as the others.
DISPOSITIONS = ["restock", "restock", "damaged", "dispose"]
REASONS = ReturnLine.Reason.values
_runs = itertools.count()
# What the runs reached, so that the test fails if the rules stop reaching the returns.
_reached: Counter[str] = Counter()


class ReturnsMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        run = next(_runs)
        self.products = [
            Product.objects.create(sku=f"RM{run}-{i}", name="p", price=Decimal(10 + i))
            for i in range(PRODUCTS)
        ]
        self.locations = [
            Location.objects.create(
                code=f"RM{run}-L{i}", name="l", lat=48 + i, lon=2 + i, shipment_cost=i + 1
            )
            for i in range(LOCATIONS)
        ]
        self.orders: list[int] = []
        self.returns: list[int] = []
        # Rows counted below what they had promised: the location rejects, as in life.
        self.short: set[int] = set()

    # Stock and orders

    @initialize()
    def stock_every_shelf(self):
        # Returns need shipped orders: start with stock, so that most orders ship.
        for product in self.products:
            for location in self.locations:
                stock_receive(product=product, location=location, quantity=8)

    @rule(p=st.integers(0, PRODUCTS - 1), at=st.integers(0, LOCATIONS - 1), n=st.integers(1, 6))
    def receive_stock(self, p, at, n):
        stock_receive(product=self.products[p], location=self.locations[at], quantity=n)

    @rule(p=st.integers(0, PRODUCTS - 1), at=st.integers(0, LOCATIONS - 1), n=st.integers(0, 8))
    def count(self, p, at, n):
        stock_count_apply(
            lines=[
                CountLine(
                    row=1,
                    sku=self.products[p].sku,
                    location=self.locations[at].code,
                    quantity=n,
                    counted_at=None,
                )
            ],
            actor=None,
        )

    @rule(
        lines=st.lists(
            st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 3)), min_size=1, max_size=2
        ),
        ship_now=st.booleans(),
        return_now=st.booleans(),
        data=st.data(),
    )
    def order(self, lines, ship_now, return_now, data):
        order = place([(self.products[p], q) for p, q in lines])
        self.orders.append(order.pk)
        if ship_now:  # most orders ship before anything else happens to them
            for fulfilment in Fulfilment.objects.filter(order=order).order_by("pk"):
                with contextlib.suppress(DomainError):
                    fulfilment_ship(fulfilment_id=fulfilment.pk, carrier="C", tracking_number="T")
            if return_now:  # and many come back, so that returns meet the other rules
                ret = self._return(order, data, extra=0, reason="damaged", exchange=False)
                if ret is not None:
                    self._receive(ret, data, data.draw(st.integers(0, LOCATIONS - 1)), extra=0)
                    if data.draw(st.booleans()):
                        self._refund(ret)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel_order(self, data):
        order = Order.objects.get(pk=data.draw(st.sampled_from(self.orders)))
        with contextlib.suppress(DomainError):  # shipped: refused, nothing changed
            order_cancel(order=order)

    @precondition(lambda self: self._open_fulfilments())
    @rule(data=st.data())
    def ship(self, data):
        fulfilment = data.draw(st.sampled_from(self._open_fulfilments()))
        with contextlib.suppress(DomainError):  # held, or a shelf counted short
            fulfilment_ship(fulfilment_id=fulfilment, carrier="C", tracking_number="T")

    @rule(when_received=st.booleans())
    def exchange_policy(self, when_received):
        policy = Channel.ExchangeShipping
        Channel.objects.filter(code="web").update(
            exchange_shipping=policy.WHEN_RECEIVED if when_received else policy.AT_ONCE
        )

    # Returns

    @precondition(lambda self: self._shipped_orders())
    @rule(
        data=st.data(),
        extra=st.sampled_from([0, 0, 1]),  # now and then one unit too many: refused
        reason=st.sampled_from(REASONS),
        exchange=st.booleans(),
    )
    def make_return(self, data, extra, reason, exchange):
        order = Order.objects.get(pk=data.draw(st.sampled_from(self._shipped_orders())))
        self._return(order, data, extra=extra, reason=reason, exchange=exchange)

    def _return(self, order, data, *, extra, reason, exchange) -> Return | None:
        if not order.lines.filter(quantity_shipped__gt=0).exists():
            return None
        shipped_lines = order.lines.filter(quantity_shipped__gt=0).select_related("product")
        line = data.draw(st.sampled_from(list(shipped_lines.order_by("pk"))))
        product_lines = order.lines.filter(product=line.product)
        free = sum(ol.quantity_shipped - ol.quantity_returned for ol in product_lines)
        wanted = data.draw(st.integers(1, max(free + extra, 1)))
        other = self.products[(self.products.index(line.product) + 1) % PRODUCTS]
        try:
            ret = return_create(
                data=ReturnInput(
                    order=order,
                    lines=[ReturnLineInput(line.product, wanted, reason)],
                    resolution=(
                        Return.Resolution.EXCHANGE if exchange else Return.Resolution.REFUND
                    ),
                    exchange_lines=[ExchangeLineInput(other, 1)] if exchange else [],
                )
            )
        except ReturnRejected:
            # Refused exactly when more units were asked than came and are not returned.
            assert wanted > free
            _reached["return refused"] += 1
            return None
        assert wanted <= free
        self.returns.append(ret.pk)
        _reached["return made"] += 1
        if ret.exchange_order_id:
            self.orders.append(ret.exchange_order_id)
            if Order.objects.get(pk=ret.exchange_order_id).held_for:
                _reached["exchange held"] += 1
        return ret

    @precondition(lambda self: self._returns_in(RS.REQUESTED, RS.PARTIALLY_RECEIVED))
    @rule(
        data=st.data(),
        at=st.integers(0, LOCATIONS - 1),
        extra=st.sampled_from([0, 0, 1]),
    )
    def receive_return(self, data, at, extra):
        ret = Return.objects.get(
            pk=data.draw(st.sampled_from(self._returns_in(RS.REQUESTED, RS.PARTIALLY_RECEIVED)))
        )
        self._receive(ret, data, at, extra=extra)

    def _receive(self, ret, data, at, *, extra):
        disposition = data.draw(st.sampled_from(DISPOSITIONS))
        line = data.draw(st.sampled_from(list(ret.lines.select_related("product"))))
        outstanding = sum(
            rl.quantity - rl.received for rl in ret.lines.filter(product=line.product)
        )
        n = data.draw(st.integers(1, max(outstanding + extra, 1)))
        try:
            return_receive(
                ret=ret,
                location=self.locations[at],
                lines=[ReceiveLineInput(line.product, n, disposition)],
            )
        except ReturnRejected:
            assert n > outstanding  # more than the return still expects: nothing applied
            _reached["receipt refused"] += 1
            return
        assert n <= outstanding
        _reached["received"] += 1

    @precondition(lambda self: self.returns)
    @rule(data=st.data())
    def refund(self, data):
        self._refund(Return.objects.get(pk=data.draw(st.sampled_from(self.returns))))

    def _refund(self, ret):
        with contextlib.suppress(ReturnConflict):  # nothing received, an exchange, cancelled
            return_refund(ret=ret)
            _reached["refunded"] += 1

    @precondition(lambda self: self.returns)
    @rule(data=st.data())
    def cancel_return(self, data):
        ret = Return.objects.get(pk=data.draw(st.sampled_from(self.returns)))
        received = ret.lines.filter(received__gt=0).exists()
        try:
            return_cancel(ret=ret)
        except ReturnConflict:
            assert received or ret.status != RS.REQUESTED
            return
        assert not received

    # Helpers

    def _open_fulfilments(self):
        return sorted(
            Fulfilment.objects.filter(
                order__in=self.orders, status__in=Fulfilment.ACTIVE_STATUSES
            ).values_list("pk", flat=True)
        )

    def _shipped_orders(self):
        return sorted(
            OrderLine.objects.filter(order__in=self.orders, quantity_shipped__gt=0)
            .values_list("order_id", flat=True)
            .distinct()
        )

    def _returns_in(self, *statuses):
        return sorted(
            Return.objects.filter(pk__in=self.returns, status__in=statuses).values_list(
                "pk", flat=True
            )
        )

    # Invariants

    @invariant()
    def stock_balances_agree_with_the_ledger_and_the_returns(self):
        rows = list(StockLevel.objects.filter(product__in=self.products))
        assert stock_drift(stock_ids=[row.pk for row in rows]) == []
        received = ReturnReceiptLine.objects.filter(return_line__product__in=self.products)
        damaged = _units_by_place(received.filter(disposition="damaged"))
        restocked = _units_by_place(received.filter(disposition="restock"))
        from_returns = dict(
            StockMovement.objects.filter(stock__in=rows, kind=StockMovement.Kind.RETURN)
            .values("stock_id")
            .annotate(n=Sum("quantity"))
            .values_list("stock_id", "n")
        )
        for row in rows:
            place = (row.product_id, row.location_id)
            assert min(row.on_hand, row.allocated, row.reserved, row.quarantined) >= 0
            assert row.quarantined == damaged.get(place, 0)
            assert from_returns.get(row.pk, 0) == restocked.get(place, 0)
            if row.allocated > row.on_hand:
                self.short.add(row.pk)  # only a count does this
            else:
                self.short.discard(row.pk)
            if row.pk not in self.short:
                assert row.allocated <= row.on_hand

    @invariant()
    def never_more_returned_than_received_nor_refunded_than_paid(self):
        on_returns = dict(
            ReturnLine.objects.filter(return_request__in=self.returns)
            .exclude(return_request__status=RS.CANCELLED)
            .values("order_line_id")
            .annotate(n=Sum("quantity"))
            .values_list("order_line_id", "n")
        )
        for line in OrderLine.objects.filter(order__in=self.orders):
            assert 0 <= line.quantity_returned <= line.quantity_shipped
            assert line.quantity_returned == on_returns.get(line.pk, 0)
        for rl in ReturnLine.objects.filter(return_request__in=self.returns):
            assert 0 <= rl.received <= rl.quantity
            assert rl.received == rl.restocked + rl.damaged + rl.disposed
        for refund in Refund.objects.filter(return_request__in=self.returns).select_related(
            "return_request__order"
        ):
            order = refund.return_request.order
            paid = sum(
                (ol.quantity_shipped * ol.unit_price for ol in order.lines.all()),
                start=order.shipping_price or Decimal("0"),
            )
            assert Decimal("0") <= refund.amount <= paid
            assert refund.return_request.status == RS.REFUNDED

    @invariant()
    def a_held_exchange_leaves_only_after_its_return(self):
        held = Order.objects.filter(pk__in=self.orders).exclude(held_for="")
        assert not OrderLine.objects.filter(order__in=held, quantity_shipped__gt=0).exists()
        assert not Return.objects.filter(
            Q(exchange_order__in=held), status__in=[RS.RECEIVED, RS.REFUNDED]
        ).exists()


def _units_by_place(receipt_lines) -> dict[tuple[int, int], int]:
    return {
        (row["return_line__product_id"], row["receipt__location_id"]): row["n"]
        for row in receipt_lines.values("return_line__product_id", "receipt__location_id")
        .annotate(n=Sum("quantity"))
        .order_by()
    }


@pytest.mark.django_db
def test_random_return_flows_keep_every_balance_whole():
    _reached.clear()
    run_state_machine_as_test(
        ReturnsMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    for step in ("return made", "received", "refunded"):
        assert _reached[step], f"no run reached '{step}': {dict(_reached)}"
