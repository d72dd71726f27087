"""The JSON edge: instances and plans read and written in the contract's shapes."""

import copy
import json

import pytest

from sourcing import InvalidInstance, InvalidPlan, plan
from sourcing.check import Optimum
from sourcing.jsonio import (
    instance_from_json,
    instance_to_json,
    optimum_from_json,
    plan_from_json,
    plan_to_json,
)
from tests.sourcing.support import INSTANCES, read


@pytest.mark.parametrize("name", ["mixed-7-003.json", "hard-8-002.json"])
def test_an_instance_read_and_written_reads_the_same(name):
    # given
    instance = instance_from_json(read(name))

    # when
    again = instance_from_json(json.loads(json.dumps(instance_to_json(instance))))

    # then
    assert again == instance


def test_reading_keeps_only_the_stock_of_skus_the_order_asks_for():
    # given
    raw = read("mixed-7-003.json")
    wanted = {line["sku"] for line in raw["order"]["lines"]}

    # when
    instance = instance_from_json(raw)

    # then
    assert all(set(location.stock) <= wanted for location in instance.locations)
    assert len(instance.locations) == len(raw["locations"])


@pytest.mark.parametrize("strategy", ["optimal", "priority"])
def test_a_plan_written_and_read_writes_the_same_json(strategy):
    # given: a plan with runner-ups in its explanation
    written = plan_to_json(plan(instance_from_json(read("mixed-7-009.json")), strategy))

    # when
    again = plan_to_json(plan_from_json(json.loads(json.dumps(written))))

    # then
    assert again == written
    assert written["explanation"]["alternatives"]


def test_a_plan_runs_out_of_budget_writes_its_bound():
    # given
    budgeted = plan(instance_from_json(read("hard-8-002.json")), budget_ms=0.5)

    # when
    written = plan_to_json(budgeted)

    # then
    assert written["proven"] is False
    assert written["bound"] == round(budgeted.bound, 6)
    assert plan_from_json(written).bound == written["bound"]


def test_a_bad_instance_is_refused_naming_the_field():
    # given: the second location's stock of a wanted SKU is not a count
    raw = read("mixed-7-003.json")
    sku = raw["order"]["lines"][0]["sku"]
    raw["locations"][1]["stock"][sku] = "many"

    # when / then
    with pytest.raises(InvalidInstance) as error:
        instance_from_json(raw)
    assert error.value.field == f"locations[1].stock.{sku}"
    assert str(error.value) == f"locations[1].stock.{sku}: must be an integer"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.pop("units"), "units"),
        (lambda p: p["allocations"][0].update(quantity="2"), "allocations[0].quantity"),
        (lambda p: p.update(unallocated={}), "unallocated"),
        (lambda p: p["explanation"]["locations"][0].pop("total"), "explanation.locations[0].total"),
        (lambda p: p["explanation"].update(text=[1]), "explanation.text[0]"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(change, field):
    # given
    written = plan_to_json(plan(instance_from_json(read("mixed-7-009.json"))))
    broken = copy.deepcopy(written)
    change(broken)

    # when / then
    with pytest.raises(InvalidPlan) as error:
        plan_from_json(broken)
    assert error.value.field == field


def test_the_recorded_optimum_is_read_from_expected():
    # given
    raw = read("hard-8-000.json")

    # when / then
    assert optimum_from_json(raw) == Optimum(raw["expected"]["units"], raw["expected"]["cost"])
    assert optimum_from_json({k: v for k, v in raw.items() if k != "expected"}) is None
    with pytest.raises(InvalidInstance, match="expected.cost"):
        optimum_from_json({**raw, "expected": {"units": 3, "cost": "cheap"}})


def test_every_recorded_instance_has_an_optimum():
    # given / when
    optima = [optimum_from_json(json.loads(p.read_text())) for p in INSTANCES.glob("*.json")]

    # then
    assert len(optima) == 30
    assert all(optimum is not None for optimum in optima)
