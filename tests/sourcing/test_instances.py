"""The engine on the shared instances, judged by the shared checker (../shared/sourcing)."""

import importlib.util
import json
from pathlib import Path

import pytest

from sourcing import STRATEGIES, plan

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "sourcing"
INSTANCES = sorted((SHARED / "instances").glob("*.json"))


def load_checker():
    """Import shared/sourcing/check.py without copying it into the project."""
    spec = importlib.util.spec_from_file_location("sourcing_check", SHARED / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = load_checker()


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_the_shared_instances_are_there():
    # given / when / then: a missing folder would make the parametrised tests vanish silently
    assert len(INSTANCES) == 30


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_it_finds_the_proven_optimum_of_every_shared_instance(path):
    # given
    instance = read(path)
    expected = instance["expected"]

    # when
    result = plan(instance).to_dict()

    # then
    assert CHECK.problems(instance, result) == []
    cost, shipments = CHECK.plan_cost(instance, result["allocations"])
    assert result["units"] == expected["units"]
    assert cost <= expected["cost"] * (1 + 1e-6) + 1e-6
    assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
    assert result["shipments"] == shipments
    assert result["proven"] is True
    assert "bound" not in result


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "optimal"])
def test_rule_strategies_give_feasible_plans_on_every_shared_instance(strategy):
    for path in INSTANCES:
        # given
        instance = read(path)

        # when
        result = plan(instance, strategy, explain_runner_ups=False).to_dict()

        # then
        assert CHECK.problems(instance, result) == [], path.name
        cost, _ = CHECK.plan_cost(instance, result["allocations"])
        assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
        assert result["strategy"] == strategy
        assert result["units"] <= instance["expected"]["units"]


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != "optimal"])
def test_rule_strategies_are_deterministic(strategy):
    # given
    instance = read(SHARED / "instances" / "hard-8-002.json")

    # when
    first = plan(instance, strategy, explain_runner_ups=False).to_dict()
    second = plan(instance, strategy, explain_runner_ups=False).to_dict()

    # then
    assert first["allocations"] == second["allocations"]


def test_plan_json_has_the_contract_fields_and_an_explanation():
    # given
    instance = read(SHARED / "instances" / "mixed-7-009.json")

    # when
    result = plan(instance).to_dict()

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
