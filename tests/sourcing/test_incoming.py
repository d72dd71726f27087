"""Incoming supply: shipments that may wait at their location for units expected there.

The optimum is proven here by brute force: every departure day of every location, every
way to give each line its units, judged by the project's checker (which computes the cost
from the contract's formula, apart from the engine). Instances of their own live in
tests/sourcing/incoming/ with that optimum recorded.
"""

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcing import InvalidInstance, plan
from sourcing.check import plan_check, plan_cost
from sourcing.jsonio import instance_from_json, instance_to_json, plan_from_json, plan_to_json
from sourcing.plan import Allocation, Explanation, Plan, Unallocated, Wait
from sourcing.waiting import MAX_COMBINATIONS
from tests.sourcing.support import INSTANCES, read, solve

FOLDER = Path(__file__).resolve().parent / "incoming"
FILES = sorted(FOLDER.glob("*.json"))
SKUS = ("A", "B")
FIRST = "locations[0].incoming[0]"
NOTHING = Explanation(rule="", locations=(), alternatives=(), text=())


def brute_force(data):
    """Return (units, cost, waits) of the best plan: every departure day of every location
    times every allocation of every line, kept when the checker finds nothing wrong."""
    instance = instance_from_json(data)
    lines = instance.lines
    codes = [location.code for location in instance.locations if location.ships]
    days_of = {
        location.code: [0, *sorted({item.days for item in location.incoming})]
        for location in instance.locations
        if location.ships
    }
    best = (0, 0.0, ())
    for departures in itertools.product(*(days_of[code] for code in codes)):
        waits = tuple(Wait(code, day) for code, day in zip(codes, departures, strict=True) if day)
        for allocations in _allocations(lines, codes, instance.policy.allow_line_split):
            used = {a.location for a in allocations}
            kept = tuple(w for w in waits if w.location in used)
            if len(kept) < len(waits):
                continue  # the same plan is tried with those locations leaving now
            candidate = _plan(instance, allocations, kept)
            if plan_check(instance, candidate):
                continue
            units, cost = candidate.units, candidate.cost
            if units > best[0] or (units == best[0] and cost < best[1] - 1e-9):
                best = (units, cost, kept)
    return best


def _allocations(lines, codes, split):
    per_line = []
    for i, line in enumerate(lines):
        options = []
        if split:
            for amounts in itertools.product(range(line.quantity + 1), repeat=len(codes)):
                if sum(amounts) <= line.quantity:
                    options.append(
                        [
                            Allocation(i, code, line.sku, q)
                            for code, q in zip(codes, amounts, strict=True)
                            if q
                        ]
                    )
        else:
            options.append([])
            options.extend([Allocation(i, code, line.sku, line.quantity)] for code in codes)
        per_line.append(options)
    for choice in itertools.product(*per_line):
        yield tuple(a for part in choice for a in part)


def _plan(instance, allocations, waits):
    given_ = [0] * len(instance.lines)
    for a in allocations:
        given_[a.line] += a.quantity
    return Plan(
        allocations=allocations,
        unallocated=tuple(
            Unallocated(i, line.sku, line.quantity - given_[i])
            for i, line in enumerate(instance.lines)
            if line.quantity > given_[i]
        ),
        units=sum(given_),
        shipments=len({a.location for a in allocations}),
        cost=plan_cost(instance, allocations, waits),
        elapsed_ms=0.0,
        proven=False,
        bound=None,
        strategy="",
        explanation=NOTHING,
        waits=waits,
    )


@st.composite
def instances(draw):
    lines = draw(
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 2)), min_size=1, max_size=2)
    )
    locations = []
    for n in range(draw(st.integers(1, 3))):
        incoming = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "sku": st.sampled_from(SKUS),
                        "quantity": st.integers(1, 3),
                        "days": st.integers(1, 3),
                    }
                ),
                max_size=2,
            )
        )
        locations.append(
            {
                "code": f"L{n}",
                "lat": draw(st.floats(45.0, 50.0)),
                "lon": draw(st.floats(0.0, 6.0)),
                "shipment_cost": draw(st.sampled_from((0.0, 2.0, 6.5))),
                "cost_per_km": draw(st.sampled_from((0.0, 0.004))),
                "unit_cost": draw(st.sampled_from((0.0, 0.3, 2.5))),
                "stock": {sku: draw(st.integers(0, 2)) for sku in SKUS},
                "incoming": incoming,
            }
        )
    return {
        "order": {
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "destination": {"lat": 48.85, "lon": 2.35},
        },
        "locations": locations,
        "policy": {
            "split_penalty": draw(st.sampled_from((0.0, 4.0))),
            "allow_line_split": draw(st.booleans()),
            "max_shipments": draw(st.sampled_from((None, 1, 2))),
            "wait_cost_per_day": draw(st.sampled_from((0.0, 0.5, 3.0))),
        },
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_optimum_with_incoming_supply_matches_brute_force(data):
    # given
    units, cost, _ = brute_force(data)

    # when
    result = plan(instance_from_json(data))

    # then: a plan the checker accepts, as good as every plan there is
    assert plan_check(instance_from_json(data), result) == []
    assert result.proven is True
    assert result.units == units
    assert result.cost == pytest.approx(cost, rel=1e-6, abs=1e-6)


def test_the_incoming_instances_are_there():
    # given / when / then: a missing folder would make the parametrised tests vanish silently
    assert len(FILES) == 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_recorded_optimum_of_each_incoming_instance_is_proven_and_found(path):
    # given
    data = json.loads(path.read_text())
    expected = data["expected"]

    # when
    units, cost, waits = brute_force(data)
    result = solve(data)

    # then: the record is the brute-force optimum, and the engine reaches it
    assert units == expected["units"]
    assert cost == pytest.approx(expected["cost"], abs=1e-6)
    assert [{"location": w.location, "days": w.days} for w in waits] == expected["waits"]
    assert plan_check(instance_from_json(data), plan_from_json(result)) == []
    assert result["units"] == expected["units"]
    assert result["cost"] == pytest.approx(expected["cost"], abs=1e-6)
    assert result.get("waits", []) == expected["waits"]
    assert result["proven"] is True


def test_it_waits_two_days_for_the_dc_rather_than_split_and_says_so():
    # given: the DC holds the jackets now and gets the boots in two days; a store has boots
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())

    # when
    result = solve(data)

    # then: one shipment from the DC in two days, the split named as the dearer runner-up
    assert result["waits"] == [{"location": "DC-LYON", "days": 2}]
    assert {a["location"] for a in result["allocations"]} == {"DC-LYON"}
    (part,) = result["explanation"]["locations"]
    assert part["wait_days"] == 2
    assert part["wait_cost"] == pytest.approx(3.0)
    assert part["total"] == pytest.approx(result["cost"])
    runner_up = result["explanation"]["alternatives"][0]
    assert runner_up["label"] == "without waiting for incoming units"
    assert runner_up["locations"] == ["DC-LYON", "ST-LILLE"]
    assert runner_up["extra_cost"] > 0
    assert any("waits 2 day(s)" in line for line in result["explanation"]["text"])


def test_a_dear_day_of_waiting_makes_it_split_and_names_the_wait_it_passed_up():
    # given: the same order, a day of waiting priced high
    data = json.loads((FOLDER / "split-beats-waiting.json").read_text())

    # when
    result = solve(data)

    # then
    assert "waits" not in result
    assert {a["location"] for a in result["allocations"]} == {"DC-LYON", "ST-LILLE"}
    runner_up = result["explanation"]["alternatives"][0]
    assert runner_up["label"] == "waiting for incoming units"
    assert runner_up["extra_cost"] > 0


@pytest.mark.parametrize("path", sorted(INSTANCES.glob("*.json"))[:10], ids=lambda p: p.stem)
def test_instances_without_incoming_read_and_plan_as_before(path):
    # given
    data = read(path.name)

    # when
    instance = instance_from_json(data)
    result = solve(data)

    # then: no trace of the extension in the instance, the plan or its explanation
    assert all(location.incoming == () for location in instance.locations)
    assert "wait_cost_per_day" not in instance_to_json(instance)["policy"]
    assert all("incoming" not in item for item in instance_to_json(instance)["locations"])
    assert "waits" not in result
    assert all("wait_days" not in part for part in result["explanation"]["locations"])


def test_the_rules_plan_on_the_stock_at_hand():
    # given
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())

    # when
    result = solve(data, "fewest_shipments", explain_runner_ups=False)

    # then
    assert "waits" not in result
    assert plan_check(instance_from_json(data), plan_from_json(result)) == []


def test_under_a_spent_budget_the_plan_is_feasible_with_a_bound():
    # given
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())

    # when
    result = solve(data, budget_ms=0)

    # then
    assert plan_check(instance_from_json(data), plan_from_json(result)) == []
    if not result["proven"]:
        assert 0 <= result["bound"] <= result["cost"] + 1e-9


def test_the_checker_refuses_incoming_units_taken_without_waiting():
    # given: the DC's boots arrive in two days, the plan takes them now
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())
    instance = instance_from_json(data)
    allocations = (Allocation(0, "DC-LYON", "JACKET", 3), Allocation(1, "DC-LYON", "BOOTS", 2))

    # when
    now = plan_check(instance, _plan(instance, allocations, ()))
    waited = plan_check(instance, _plan(instance, allocations, (Wait("DC-LYON", 2),)))
    too_soon = plan_check(instance, _plan(instance, allocations, (Wait("DC-LYON", 1),)))

    # then
    assert now == ["DC-LYON gives 2 × BOOTS but holds 0"]
    assert waited == []
    assert too_soon == ["DC-LYON gives 2 × BOOTS but holds 0 by day 1"]


def test_the_checker_counts_the_wait_in_the_cost_and_refuses_a_wait_for_nothing():
    # given
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())
    instance = instance_from_json(data)
    allocations = (Allocation(0, "DC-LYON", "JACKET", 3), Allocation(1, "DC-LYON", "BOOTS", 2))
    waits = (Wait("DC-LYON", 2),)
    stated = _plan(instance, allocations, waits)
    free_wait = Plan(**{**_fields(stated), "cost": plan_cost(instance, allocations)})
    idle = _plan(instance, allocations, (*waits, Wait("ST-LILLE", 1)))

    # when / then
    assert plan_cost(instance, allocations, waits) == pytest.approx(
        plan_cost(instance, allocations) + 2 * 1.5
    )
    assert any("its allocations cost" in p for p in plan_check(instance, free_wait))
    assert "wait 1: ST-LILLE ships nothing" in plan_check(instance, idle)


def test_plan_json_round_trips_its_waits():
    # given
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())
    result = plan(instance_from_json(data))

    # when
    again = plan_from_json(plan_to_json(result))

    # then
    assert again.waits == (Wait("DC-LYON", 2),)
    assert again.explanation.locations[0].wait_days == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["locations"][0]["incoming"][0].update(days=0), FIRST + ".days"),
        (lambda d: d["locations"][0]["incoming"][0].pop("sku"), FIRST + ".sku"),
        (lambda d: d["locations"][0].update(incoming={}), "locations[0].incoming"),
        (lambda d: d["policy"].update(wait_cost_per_day=-1), "policy.wait_cost_per_day"),
    ],
)
def test_bad_incoming_fields_are_refused_by_name(change, field):
    # given
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())
    change(data)

    # when
    with pytest.raises(InvalidInstance) as caught:
        instance_from_json(data)

    # then
    assert caught.value.field == field


def test_too_many_combinations_of_departure_days_are_refused_by_name():
    # given: seven locations, each with a day to wait for: 2 ** 7 combinations
    data = json.loads((FOLDER / "wait-for-the-dc.json").read_text())
    template = data["locations"][0]
    data["locations"] = [{**template, "code": f"DC-{n}"} for n in range(7)]
    assert MAX_COMBINATIONS < 2**7

    # when
    with pytest.raises(InvalidInstance) as caught:
        instance_from_json(data)

    # then
    assert caught.value.field == "locations[6].incoming"


def _fields(p):
    return {name: getattr(p, name) for name in Plan.__dataclass_fields__}
