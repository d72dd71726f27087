"""Two locations with stock, an order, a fulfilment, a webhook, an alert and more at each,
and one user per role."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.roles import (
    ADMINISTRATOR,
    CUSTOMER_SERVICE,
    INTEGRATION,
    INVENTORY_MANAGER,
    STORE_STAFF,
    WAREHOUSE_STAFF,
)
from alerts.models import Alert, DigestReceipt, StockRule
from alerts.services.rules import stock_rule_set
from connectors.models import Connector, StorefrontOrder
from connectors.sealing import secret_seal
from fulfilment.models import Fulfilment
from inventory.models import Location, StockCountImport, StockLevel
from orders.models import Channel, Order, Reservation
from orders.services.reservations import ReservedLine, reservation_create
from outbox.models import Delivery, OutboxEvent, WebhookSubscription
from outbox.services import subscription_create
from returns.models import Return, ReturnLine
from supply.models import PurchaseOrder, Transfer
from supply.services.purchase_orders import purchase_order_create
from supply.services.transfers import TransferLineInput, transfer_create
from tests.orders.helpers import place, product, stocked, warehouse

# Role -> the location it is tied to ("own"), or None when not limited by place.
ROLE_PLACES = {
    STORE_STAFF: "own",
    WAREHOUSE_STAFF: "own",
    CUSTOMER_SERVICE: None,
    INVENTORY_MANAGER: None,
    ADMINISTRATOR: None,
    INTEGRATION: "own",
}


@dataclass
class Site:
    location: Location
    stock: StockLevel
    order: Order
    fulfilment: Fulfilment
    # A person working at the location (no role): the author of its count file.
    clerk: User
    webhook: WebhookSubscription
    event: OutboxEvent
    delivery: Delivery
    alert: Alert
    rule: StockRule
    reservation: Reservation
    count_import: StockCountImport
    receipt: DigestReceipt
    # A received return of the site's order at the location, written as rows: the order is
    # not shipped, so that every other route meets it as it is.
    ret: Return
    # A transfer from the location to its hub (a warehouse no caller is scoped to), and a
    # purchase order delivered to the location.
    transfer: Transfer
    purchase_order: PurchaseOrder
    # A storefront's webhook that became the site's order.
    storefront_order: StorefrontOrder

    def objects(self) -> dict:
        """Return this site's object of each model an admin scopes by location."""
        return {
            "inventory.stocklevel": self.stock,
            "inventory.stockmovement": self.stock.movements.first(),
            "inventory.allocation": self.order.lines.get().allocations.first(),
            "inventory.stockcountimport": self.count_import,
            "fulfilment.fulfilment": self.fulfilment,
            "outbox.webhooksubscription": self.webhook,
            "outbox.outboxevent": self.event,
            "outbox.delivery": self.delivery,
            "orders.order": self.order,
            "orders.reservation": self.reservation,
            "alerts.alert": self.alert,
            "alerts.stockrule": self.rule,
            "alerts.digestreceipt": self.receipt,
            "returns.return": self.ret,
            "supply.transfer": self.transfer,
            "supply.purchaseorder": self.purchase_order,
            "connectors.storefrontorder": self.storefront_order,
        }


def network() -> tuple[Site, Site]:
    """Return (own, other): each a location holding one product, an order sourced there, and
    the location's webhook, alert, threshold, reservation and count file."""
    sites = []
    now = timezone.now()
    for code, sku, lat in (("OWN", "OWN-TEE", 48.9), ("OTHER", "OTHER-MUG", 45.7)):
        location = warehouse(code, lat=lat)
        item = product(sku)
        stock = stocked(item, location, 10)
        order = place([(item, 1)], email=f"{code.lower()}@example.com")
        clerk = User.objects.create_user(username=f"{code.lower()}-clerk", password=None)
        Membership.objects.create(user=clerk, location=location)
        webhook = subscription_create(
            url=f"https://{code.lower()}.example.com/hooks",
            secret="s" * 32,
            events=["fulfilment.requested"],
            location=location,
        )
        event = OutboxEvent.objects.create(
            event="fulfilment.requested",
            key=f"fulfilment:{code}",
            location=location,
            data={},
            created_at=now,
        )
        sites.append(
            Site(
                location=location,
                stock=stock,
                order=order,
                fulfilment=order.fulfilments.get(),
                clerk=clerk,
                webhook=webhook,
                event=event,
                delivery=Delivery.objects.create(
                    subscription=webhook,
                    event=event,
                    next_try_at=now,
                    horizon_at=now,
                    created_at=now,
                ),
                alert=Alert.objects.create(
                    kind=Alert.Kind.LOW_STOCK,
                    subject=f"{item.pk}@{location.pk}",
                    product=item,
                    location=location,
                    opened_at=now,
                ),
                rule=stock_rule_set(product=item, location=location, threshold=3)[0],
                reservation=reservation_create(
                    channel=Channel.objects.get(code="web"), lines=[ReservedLine(item, 1)]
                ),
                count_import=StockCountImport.objects.create(
                    digest=code.lower() * 8, source="api", counted_at=now, actor=clerk
                ),
                receipt=DigestReceipt.objects.create(user=clerk, sent_at=now),
                ret=_return_row(order, location),
                transfer=transfer_create(
                    source=location,
                    destination=warehouse(f"{code}-HUB", lat=lat),
                    lines=[TransferLineInput(product=item, quantity=1)],
                ),
                purchase_order=purchase_order_create(
                    number=f"PO-{code}",
                    supplier="Acme",
                    location=location,
                    expected_on=now.date(),
                    lines=[(item, 5)],
                )[0],
                storefront_order=_storefront_order(order),
            )
        )
    return sites[0], sites[1]


def _storefront_order(order: Order) -> StorefrontOrder:
    connector, _ = Connector.objects.get_or_create(
        channel=order.channel,
        defaults={
            "kind": Connector.Kind.SHOPIFY,
            "base_url": "https://shop.example.com",
            "webhook_secret_sealed": secret_seal("whsec-for-tests"),
            "access_token_sealed": secret_seal("token-for-tests"),
        },
    )
    return StorefrontOrder.objects.create(
        connector=connector,
        topic="orders/create",
        remote_order_id=f"R-{order.number}",
        body=b"{}",
        status=StorefrontOrder.Status.APPLIED,
        order=order,
    )


def _return_row(order: Order, location: Location) -> Return:
    ret = Return.objects.create(
        number=f"R{order.number}"[:10],
        order=order,
        method=Return.Method.MAIL,
        status=Return.Status.RECEIVED,
        location=location,
        currency=order.currency,
    )
    line = order.lines.get()
    ReturnLine.objects.create(
        return_request=ret,
        line_no=1,
        order_line=line,
        product=line.product,
        quantity=1,
        reason=ReturnLine.Reason.TOO_SMALL,
        received=1,
        disposed=1,
    )
    return ret


def role_user(role: str, *, location: Location | None) -> User:
    user = User.objects.create_user(
        username=role.replace(" ", "-"), password="pw-for-tests-123", is_staff=role != INTEGRATION
    )
    user.groups.add(Group.objects.get(name=role))
    if location is not None:
        Membership.objects.create(user=user, location=location)
    return user


def token_client(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@contextmanager
def rolled_back():
    """Run the block in a transaction rolled back at its end."""
    with transaction.atomic():
        # Services open durable blocks, which Django allows inside a test case's own blocks.
        connection.atomic_blocks[-1]._from_testcase = True
        yield
        transaction.set_rollback(True)


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = (
                f"{namespace}:{pattern.namespace}"
                if pattern.namespace and namespace
                else (pattern.namespace or namespace)
            )
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names = set(pattern.pattern.regex.groupindex)
            yield prefix + str(pattern.pattern), namespace, pattern, names


def admin_routes():
    return [r for r in _walk(get_resolver().url_patterns) if r[1] == "admin"]


def api_routes():
    return [r for r in _walk(get_resolver().url_patterns) if r[0].startswith("api/v1/")]
