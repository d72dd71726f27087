"""manage.py seed_demo: a demo network whose stock agrees with its ledger, loaded once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from inventory.models import Location, Product, StockLevel, StockMovement
from inventory.reconcile import stock_drift
from orders.models import Channel

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


# A smaller catalogue keeps the runs that only check idempotency quick.
SMALL = ("--products", "40", "--no-story")  # the story: tests/demo/test_story.py


def _snapshot():
    return (
        list(Location.objects.values_list("code", "priority", "lat", "lon")),
        list(Product.objects.values_list("sku", "name", "price")),
        list(StockLevel.objects.values_list("product__sku", "location__code", "on_hand")),
        StockMovement.objects.count(),
        list(Channel.objects.values_list("code", "buffer_units", "buffer_percent")),
    )


def test_it_loads_a_network_whose_stock_matches_its_ledger():
    # when: the full catalogue, as `make run` loads it
    said = _seed("--no-story")
    # then
    kinds = dict(Location.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds["warehouse"] == 3
    assert kinds["third_party"] == 1
    assert 35 <= kinds["store"] <= 45
    assert Location.objects.filter(kind="store", click_and_collect=True).count() == kinds["store"]
    assert set(Location.objects.values_list("country", flat=True)) >= {
        "FR", "BE", "LU", "CH", "DE", "ES", "IT", "NL",
    }  # fmt: skip
    assert Product.objects.count() == 500
    assert StockLevel.objects.filter(on_hand=0).exists()
    assert StockLevel.objects.filter(safety_stock__gt=0).exists()
    warehouse_units = StockLevel.objects.filter(location__kind="warehouse").aggregate(
        n=Sum("on_hand")
    )["n"]
    store_units = StockLevel.objects.filter(location__kind="store").aggregate(n=Sum("on_hand"))["n"]
    assert warehouse_units > 10 * store_units
    assert stock_drift() == []
    assert "Demo data loaded" in said
    marketplace = Channel.objects.get(code="marketplace")
    assert marketplace.buffer_units > 0 or marketplace.buffer_percent > 0
    store_channel = set(Channel.objects.get(code="store").locations.values_list("kind", flat=True))
    assert store_channel == {"store"}
    assert not Channel.objects.get(code="web").locations.exists()


def test_a_second_run_changes_nothing_and_says_so():
    # given
    _seed(*SMALL)
    before = _snapshot()
    # when
    said = _seed(*SMALL)
    # then
    assert "nothing changed" in said
    assert _snapshot() == before
    assert stock_drift() == []


def test_it_fills_in_only_what_is_missing():
    # given: a demo network, changed by hand since
    _seed(*SMALL)
    row = StockLevel.objects.filter(on_hand__gt=0).first()
    movements = row.movements.count()
    Location.objects.filter(code="ST-NICE").update(priority=1)
    # when: a demo store was deleted, with its stock, and the seed runs again
    stock = StockLevel.objects.filter(location__code="ST-GENEVE")
    StockMovement.objects.filter(stock__in=stock).delete()
    stock.delete()
    Channel.objects.get(code="store").locations.remove(Location.objects.get(code="ST-GENEVE"))
    Location.objects.filter(code="ST-GENEVE").delete()
    said = _seed(*SMALL)
    # then
    assert Location.objects.filter(code="ST-GENEVE").exists()
    assert StockLevel.objects.filter(location__code="ST-GENEVE").exists()
    assert Location.objects.get(code="ST-NICE").priority == 1
    assert row.movements.count() == movements
    assert stock_drift() == []
    assert "1 locations" in said


def test_a_silly_product_count_is_refused():
    with pytest.raises(CommandError):
        _seed("--products", "0")
    assert not Product.objects.exists()
