"""Malformed instances are refused, at the JSON edge, with an error that names the field."""

import copy

import pytest

from sourcing import InvalidInstance, UnknownStrategy, plan
from sourcing.jsonio import instance_from_json

VALID = {
    "order": {
        "lines": [{"sku": "A", "quantity": 2}],
        "destination": {"lat": 48.85, "lon": 2.35},
    },
    "locations": [
        {
            "code": "S1",
            "lat": 48.9,
            "lon": 2.4,
            "ships": True,
            "priority": 1,
            "shipment_cost": 5.0,
            "cost_per_km": 0.01,
            "unit_cost": 1.0,
            "stock": {"A": 3, "OTHER": 7},
        }
    ],
    "policy": {"split_penalty": 1.0, "allow_line_split": True, "max_shipments": None},
}


def broken(change):
    data = copy.deepcopy(VALID)
    change(data)
    return data


def test_a_valid_instance_is_accepted():
    # given / when
    result = plan(instance_from_json(VALID))

    # then
    assert result.units == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("order"), "order"),
        (lambda d: d["order"].pop("lines"), "order.lines"),
        (lambda d: d["order"].update(lines="A"), "order.lines"),
        (lambda d: d["order"]["lines"][0].update(quantity=-1), "order.lines[0].quantity"),
        (lambda d: d["order"]["lines"][0].update(quantity=1.5), "order.lines[0].quantity"),
        (lambda d: d["order"]["lines"][0].update(quantity=True), "order.lines[0].quantity"),
        (lambda d: d["order"]["lines"][0].pop("sku"), "order.lines[0].sku"),
        (lambda d: d["order"]["destination"].pop("lat"), "order.destination.lat"),
        (lambda d: d["order"]["destination"].update(lon=200), "order.destination.lon"),
        (lambda d: d.update(locations={}), "locations"),
        (lambda d: d["locations"][0].pop("unit_cost"), "locations[0].unit_cost"),
        (lambda d: d["locations"][0].update(shipment_cost=-2), "locations[0].shipment_cost"),
        (lambda d: d["locations"][0].update(cost_per_km="0.1"), "locations[0].cost_per_km"),
        (lambda d: d["locations"][0].update(ships="yes"), "locations[0].ships"),
        (lambda d: d["locations"][0].update(stock=[1]), "locations[0].stock"),
        (lambda d: d["locations"][0]["stock"].update(A=-1), "locations[0].stock.A"),
        (lambda d: d["locations"].append(dict(d["locations"][0])), "locations[1].code"),
        (lambda d: d["policy"].update(max_shipments=-1), "policy.max_shipments"),
        (lambda d: d["policy"].update(allow_line_split="no"), "policy.allow_line_split"),
        (lambda d: d["policy"].update(split_penalty=float("nan")), "policy.split_penalty"),
    ],
)
def test_it_refuses_a_malformed_instance_naming_the_field(change, field):
    # given
    data = broken(change)

    # when / then
    with pytest.raises(InvalidInstance) as error:
        instance_from_json(data)
    assert error.value.field == field
    assert str(error.value).startswith(field)


def test_it_refuses_something_that_is_not_an_object():
    # given / when / then
    with pytest.raises(InvalidInstance, match="instance"):
        instance_from_json([])


def test_it_ignores_stock_of_skus_the_order_does_not_ask_for():
    # given: a catalogue-wide stock map with junk outside the order's SKUs
    data = broken(lambda d: d["locations"][0]["stock"].update(JUNK="x"))

    # when
    result = plan(instance_from_json(data))

    # then
    assert result.units == 2


def test_it_refuses_an_unknown_strategy():
    # given / when / then
    with pytest.raises(UnknownStrategy, match="cheapest"):
        plan(instance_from_json(VALID), "cheapest")


def test_policy_defaults_apply_when_the_policy_is_left_out():
    # given
    data = broken(lambda d: d.pop("policy"))

    # when
    result = plan(instance_from_json(data))

    # then
    assert result.units == 2 and result.shipments == 1
