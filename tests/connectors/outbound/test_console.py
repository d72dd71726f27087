"""The storefronts page: each connector's health, and "push all stock now"; the command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.roles import CUSTOMER_SERVICE, INVENTORY_MANAGER, WAREHOUSE_STAFF
from connectors.models import StorefrontOrder
from connectors.outbound_models import ConnectorHealth, ShipmentPush, StockSync
from connectors.services.outbound import connector_push
from orders.services.fulfilments import fulfilment_ship
from tests.accounts.helpers import role_user
from tests.connectors.fakes.base import Answer
from tests.connectors.outbound.helpers import SHOP_LOCATION, connect, events_read
from tests.orders.helpers import place, product, stocked, warehouse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("producers_started")]
PAGE = reverse("connectors_console:health")


def logged(client, role: str):
    client.force_login(role_user(role, location=None))
    return client


def test_the_page_shows_last_webhook_last_success_queue_and_errors(
    client, shopify, django_assert_max_num_queries
):
    # given: a storefront that took one figure, then refused to answer
    dc = warehouse("DC-PARIS")
    tee = product("TEE-1")
    stocked(tee, dc, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    StorefrontOrder.objects.create(
        connector=connector, topic="orders/create", body=b"{}", received_at=timezone.now()
    )
    events_read()
    connector_push(connector=connector)
    stocked(product("TEE-2"), dc, 3)
    place([(tee, 1)], external_id="9001")
    shipped = place([(tee, 1)], external_id="9002").fulfilments.get()
    fulfilment_ship(fulfilment_id=shipped.pk, carrier="dpd", tracking_number="DPD-7")
    shopify.script.append(Answer(503, {"errors": "Service Unavailable"}))
    events_read()
    connector_push(connector=connector)
    logged(client, INVENTORY_MANAGER)

    # when
    with django_assert_max_num_queries(14):
        response = client.get(PAGE)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index('id="storefront-web"') :]
    assert "Shopify" in row and shopify.base_url in row
    assert "1 shipment, 2 SKUs" in row
    assert "HTTP 503" in row and "paused until" in row
    assert "never" not in row.split("</tr>")[0]
    assert "Push all stock now" in row


def test_push_all_stock_now_sends_every_figure_again(client, shopify):
    # given: a figure the storefront has, then changed there by hand
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 5)
    connector = connect(shopify, locations={dc: SHOP_LOCATION})
    item = shopify.variant_add("TEE-1")["item"]
    events_read()
    connector_push(connector=connector)
    shopify.levels[(item, SHOP_LOCATION)] = 0
    logged(client, INVENTORY_MANAGER)

    # when
    response = client.post(reverse("connectors_console:push-stock", args=["web"]))
    connector_push(connector=connector)

    # then
    assert response.status_code == 302
    assert StockSync.objects.get(sku="TEE-1").dirty is False
    assert shopify.level("TEE-1", SHOP_LOCATION) == 5


def test_customer_service_sees_the_page_but_cannot_push(client, shopify):
    # given
    connect(shopify, locations={})
    logged(client, CUSTOMER_SERVICE)

    # when
    page = client.get(PAGE)
    push = client.post(reverse("connectors_console:push-stock", args=["web"]))

    # then
    assert page.status_code == 200 and "Push all stock now" not in page.content.decode()
    assert push.status_code == 403
    assert not StockSync.objects.exists()


def test_warehouse_staff_do_not_see_the_page(client, shopify):
    connect(shopify, locations={})
    logged(client, WAREHOUSE_STAFF)

    assert client.get(PAGE).status_code == 403


def test_the_command_pushes_all_stock_of_one_channel_now(shopify):
    # given
    dc = warehouse("DC-PARIS")
    stocked(product("TEE-1"), dc, 7)
    connect(shopify, locations={dc: SHOP_LOCATION})
    shopify.variant_add("TEE-1")
    out = StringIO()

    # when
    call_command("connectors_push_stock", "--channel", "web", "--now", stdout=out)

    # then
    assert shopify.level("TEE-1", SHOP_LOCATION) == 7
    assert "web:" in out.getvalue() and "sent" in out.getvalue()
    assert ConnectorHealth.objects.get().last_success_at is not None
    assert not ShipmentPush.objects.exists()
