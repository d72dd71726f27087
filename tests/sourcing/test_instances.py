"""The engine on the recorded instances, judged by the project's checker against their
proven optima (tests/sourcing/instances)."""

import json

import pytest

from sourcing import STRATEGIES
from tests.sourcing.support import INSTANCES, cost_of, problems, read, solve

FILES = sorted(INSTANCES.glob("*.json"))


def test_the_recorded_instances_are_there():
    # given / when / then: a missing folder would make the parametrised tests vanish silently
    assert len(FILES) == 30


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_it_finds_the_proven_optimum_of_every_recorded_instance(path):
    # given
    instance = read(path.name)
    expected = instance["expected"]

    # when
    result = solve(instance)

    # then
    assert problems(instance, result, optimal=True) == []
    cost, shipments = cost_of(instance, result["allocations"])
    assert result["units"] == expected["units"]
    assert cost <= expected["cost"] * (1 + 1e-6) + 1e-6
    assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
    assert result["shipments"] == shipments
    assert result["proven"] is True
    assert "bound" not in result


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "optimal"])
def test_rule_strategies_give_feasible_plans_on_every_recorded_instance(strategy):
    for path in FILES:
        # given
        instance = read(path.name)

        # when
        result = solve(instance, strategy, explain_runner_ups=False)

        # then
        assert problems(instance, result) == [], path.name
        cost, _ = cost_of(instance, result["allocations"])
        assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
        assert result["strategy"] == strategy
        assert result["units"] <= instance["expected"]["units"]


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "optimal"])
def test_rule_strategies_are_deterministic(strategy):
    # given
    instance = read("hard-8-002.json")

    # when
    first = solve(instance, strategy, explain_runner_ups=False)
    second = solve(instance, strategy, explain_runner_ups=False)

    # then
    assert first["allocations"] == second["allocations"]


def test_plan_json_has_the_contract_fields_and_an_explanation():
    # given
    instance = read("mixed-7-009.json")

    # when
    result = solve(instance)

    # then
    assert set(result) >= {
        "allocations",
        "unallocated",
        "units",
        "shipments",
        "cost",
        "elapsed_ms",
        "proven",
        "strategy",
        "explanation",
    }
    json.dumps(result)  # serialisable as is
    explained = result["explanation"]
    assert {part["location"] for part in explained["locations"]} == {
        a["location"] for a in result["allocations"]
    }
    assert sum(part["total"] for part in explained["locations"]) == pytest.approx(
        result["cost"], abs=1e-4
    )
    assert any(alt["label"].startswith("without ") for alt in explained["alternatives"])
    assert explained["text"][0].startswith("optimal plan")
