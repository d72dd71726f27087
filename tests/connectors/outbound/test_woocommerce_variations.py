"""WooCommerce variable products: a variation has its own SKU and its own stock, set through
its product's `variations/batch`; the remote ids kept for the SKU are the product and the
variation."""

from __future__ import annotations

import pytest

from connectors.outbound_models import RemoteRef, StockSync
from connectors.services.outbound import connector_push
from inventory.services import stock_adjust
from tests.connectors.outbound.helpers import connect, events_read
from tests.orders.helpers import product, stocked, warehouse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("producers_started")]


def test_a_variation_s_stock_goes_to_its_product_s_variations_batch(woocommerce):
    # given: a hoodie in two sizes (variations), and a mug (a simple product)
    paris, lyon = warehouse("DC-PARIS"), warehouse("DC-LYON", lat=45.76, lon=4.83)
    connector = connect(woocommerce, locations={paris: "default", lyon: "default"})
    hoodie = woocommerce.product_add_variable("HOODIE", {"HOODIE-BLUE-M": 0, "HOODIE-BLUE-L": 0})
    woocommerce.product_add("MUG-1", stock=0)

    # when
    stocked(product("HOODIE-BLUE-M"), paris, 3)
    stocked(product("HOODIE-BLUE-L"), lyon, 5)
    stocked(product("HOODIE-BLUE-L"), paris, 1)
    stocked(product("MUG-1"), paris, 2)
    events_read()
    connector_push(connector=connector)

    # then: each variation has its own figure (summed over the mapped locations), set on
    # the variation in one call for the product; the mug in products/batch
    assert (woocommerce.stock("HOODIE-BLUE-M"), woocommerce.stock("HOODIE-BLUE-L")) == (3, 6)
    assert woocommerce.stock("MUG-1") == 2
    assert [number for number, _ in woocommerce.variation_batches] == [hoodie]
    assert sorted(row["id"] for row in woocommerce.variation_batches[0][1]) == sorted(
        [woocommerce.variation_id("HOODIE-BLUE-M"), woocommerce.variation_id("HOODIE-BLUE-L")]
    )
    assert [[row["id"] for row in batch] for batch in woocommerce.batches] == [
        [next(p["id"] for p in woocommerce.products.values() if p["sku"] == "MUG-1")]
    ]
    # the parent product's own figure is left alone
    assert woocommerce.products[hoodie]["stock_quantity"] is None
    # and the remote ids are kept: product and variation
    ref = RemoteRef.objects.get(sku="HOODIE-BLUE-L")
    assert (ref.product_id, ref.variant_id) == (
        str(hoodie),
        str(woocommerce.variation_id("HOODIE-BLUE-L")),
    )
    assert (RemoteRef.objects.get(sku="MUG-1").variant_id) == ""
    assert not StockSync.objects.filter(dirty=True).exists()


def test_a_variation_remade_in_the_shop_is_looked_up_again_and_its_figure_sent(woocommerce):
    # given: a figure sent to a variation
    dc = warehouse("DC-PARIS")
    connector = connect(woocommerce, locations={dc: "default"})
    woocommerce.product_add_variable("HOODIE", {"HOODIE-RED-S": 0})
    woocommerce.product_add("MUG-1", stock=0)
    small = product("HOODIE-RED-S")
    stocked(small, dc, 10)
    stocked(product("MUG-1"), dc, 4)
    events_read()
    connector_push(connector=connector)
    old = RemoteRef.objects.get(sku="HOODIE-RED-S")
    # when: the merchant deletes the product and makes it again (new ids, same SKU), and
    # the figure changes
    woocommerce.product_delete("HOODIE")
    woocommerce.product_delete("HOODIE-RED-S")
    remade = woocommerce.product_add_variable("HOODIE", {"HOODIE-RED-S": 0})
    stock_adjust(product=small, location=dc, quantity=-1, reason="damaged")
    events_read()
    connector_push(connector=connector)

    # then: the new variation has the figure; its ids were looked up again
    assert woocommerce.stock("HOODIE-RED-S") == 9
    ref = RemoteRef.objects.get(sku="HOODIE-RED-S")
    assert ref.product_id == str(remade) != old.product_id
    assert ref.variant_id == str(woocommerce.variation_id("HOODIE-RED-S"))
    assert not StockSync.objects.filter(dirty=True).exists()
