"""On small random instances the optimal engine matches an exhaustive enumeration."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcing import STRATEGIES
from sourcing.check import great_circle_km
from tests.sourcing.support import cost_of, feasibility_problems, problems, solve

SKUS = ("A", "B")


@st.composite
def instances(draw):
    lines = draw(
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 2)), min_size=1, max_size=3)
    )
    count = draw(st.integers(1, 3))
    locations = []
    for n in range(count):
        locations.append(
            {
                "code": f"L{n}",
                "lat": draw(st.floats(45.0, 50.0)),
                "lon": draw(st.floats(0.0, 6.0)),
                "ships": draw(st.booleans() | st.just(True)),
                "priority": draw(st.integers(1, 3)),
                "shipment_cost": draw(st.sampled_from((0.0, 2.0, 5.0, 6.5))),
                "cost_per_km": draw(st.sampled_from((0.0, 0.004, 0.01))),
                "unit_cost": draw(st.sampled_from((0.0, 0.3, 1.0, 2.5))),
                "stock": {sku: draw(st.integers(0, 3)) for sku in SKUS},
            }
        )
    policy = {
        "split_penalty": draw(st.sampled_from((0.0, 1.5, 4.0))),
        "allow_line_split": draw(st.booleans()),
        "max_shipments": draw(st.sampled_from((None, 1, 2))),
    }
    return {
        "order": {
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "destination": {"lat": 48.85, "lon": 2.35},
        },
        "locations": locations,
        "policy": policy,
    }


def brute_force(instance):
    """Return (units, cost) of the best plan by trying every allocation, subset by subset."""
    lines = instance["order"]["lines"]
    policy = instance["policy"]
    codes = [loc["code"] for loc in instance["locations"] if loc["ships"]]
    cap = policy["max_shipments"]
    best = (0, 0.0)
    for size in range(1, len(codes) + 1):
        if cap is not None and size > cap:
            break
        for subset in itertools.combinations(codes, size):
            for allocations in _allocations(lines, subset, policy["allow_line_split"]):
                if feasibility_problems(instance, allocations, _left(lines, allocations)):
                    continue
                units = sum(a["quantity"] for a in allocations)
                cost, _ = cost_of(instance, allocations)
                if units > best[0] or (units == best[0] and cost < best[1] - 1e-9):
                    best = (units, cost)
    return best


def _allocations(lines, subset, split):
    """Yield every way to give each line some units from the subset's locations."""
    per_line = []
    for i, line in enumerate(lines):
        options = []
        if split:
            for amounts in itertools.product(range(line["quantity"] + 1), repeat=len(subset)):
                if sum(amounts) <= line["quantity"]:
                    options.append(
                        [
                            {"line": i, "location": code, "sku": line["sku"], "quantity": q}
                            for code, q in zip(subset, amounts, strict=True)
                            if q
                        ]
                    )
        else:
            options.append([])
            options.extend(
                [{"line": i, "location": code, "sku": line["sku"], "quantity": line["quantity"]}]
                for code in subset
            )
        per_line.append(options)
    for choice in itertools.product(*per_line):
        yield [a for part in choice for a in part]


def _left(lines, allocations):
    given_ = [0] * len(lines)
    for a in allocations:
        given_[a["line"]] += a["quantity"]
    return [
        {"line": i, "sku": line["sku"], "quantity": line["quantity"] - given_[i]}
        for i, line in enumerate(lines)
        if line["quantity"] > given_[i]
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimal_equals_brute_force_on_small_instances(instance):
    # given
    units, cost = brute_force(instance)

    # when
    result = solve(instance, explain_runner_ups=False)

    # then
    assert problems(instance, result) == []
    assert result["units"] == units
    assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
    assert result["proven"] is True


@settings(max_examples=150, deadline=None)
@given(instances())
def test_optimal_is_never_beaten_by_a_rule_strategy(instance):
    # given
    best = solve(instance, explain_runner_ups=False)

    for strategy in STRATEGIES:
        # when
        result = solve(instance, strategy, explain_runner_ups=False)

        # then
        assert problems(instance, result) == []
        assert result["units"] <= best["units"]
        if result["units"] == best["units"]:
            assert best["cost"] <= result["cost"] + 1e-6


# -- medium instances: enough locations and lines for every cut of the search to fire ----------

MEDIUM_SKUS = ("A", "B", "C", "D")


@st.composite
def medium_instances(draw):
    split = draw(st.booleans())
    lines = draw(
        st.lists(
            st.tuples(st.sampled_from(MEDIUM_SKUS), st.integers(1, 3)),
            min_size=2,
            max_size=8 if split else 6,
        )
    )
    count = draw(st.integers(4, 9 if split else 7))
    locations = []
    for n in range(count):
        held = draw(st.lists(st.sampled_from(MEDIUM_SKUS), min_size=1, max_size=4, unique=True))
        locations.append(
            {
                "code": f"L{n}",
                "lat": draw(st.floats(43.0, 51.0)),
                "lon": draw(st.floats(-1.0, 8.0)),
                "ships": draw(st.booleans() | st.just(True) | st.just(True)),
                "priority": 1,
                "shipment_cost": draw(st.sampled_from((0.0, 4.0, 5.5, 8.0, 11.0))),
                "cost_per_km": draw(st.sampled_from((0.0, 0.003, 0.008))),
                "unit_cost": draw(st.sampled_from((0.2, 0.35, 0.9, 1.4, 2.2))),
                "stock": {sku: draw(st.integers(0, 6)) for sku in held},
            }
        )
    caps = (None, None, 1, 2, 3) if split else (1, 2, 3)
    policy = {
        "split_penalty": draw(st.sampled_from((0.0, 1.5, 4.0))),
        "allow_line_split": split,
        "max_shipments": draw(st.sampled_from(caps)),
    }
    return {
        "order": {
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "destination": {"lat": 47.0, "lon": 3.0},
        },
        "locations": locations,
        "policy": policy,
    }


def subset_oracle(instance):
    """Return (units, cost) of the best plan: every set of locations, each filled exactly.

    With line splits a set's best fill takes each SKU's units from its cheapest locations;
    without, every assignment of whole lines to the set's locations is tried.
    """
    lines = instance["order"]["lines"]
    policy = instance["policy"]
    destination = instance["order"]["destination"]
    usable = [loc for loc in instance["locations"] if loc["ships"]]
    cap = policy["max_shipments"]
    best = (0, 0.0)
    for size in range(1, len(usable) + 1):
        if cap is not None and size > cap:
            break
        for subset in itertools.combinations(usable, size):
            fixed = sum(
                loc["shipment_cost"]
                + loc["cost_per_km"]
                * great_circle_km(loc["lat"], loc["lon"], destination["lat"], destination["lon"])
                for loc in subset
            ) + policy["split_penalty"] * (size - 1)
            if policy["allow_line_split"]:
                units, cost = _split_fill(lines, subset)
            else:
                units, cost = _whole_fill(lines, subset)
            cost += fixed
            if units > best[0] or (units == best[0] and units and cost < best[1] - 1e-9):
                best = (units, cost)
    return best


def _split_fill(lines, subset):
    units, cost = 0, 0.0
    for sku in {line["sku"] for line in lines}:
        need = sum(line["quantity"] for line in lines if line["sku"] == sku)
        for loc in sorted(subset, key=lambda loc: loc["unit_cost"]):
            take = min(need, loc["stock"].get(sku, 0))
            units += take
            cost += take * loc["unit_cost"]
            need -= take
    return units, cost


def _whole_fill(lines, subset):
    units, cost = 0, 0.0
    for sku in {line["sku"] for line in lines}:
        mine = [line["quantity"] for line in lines if line["sku"] == sku]
        best = (0, 0.0)
        for choice in itertools.product(range(len(subset) + 1), repeat=len(mine)):
            left = [loc["stock"].get(sku, 0) for loc in subset]
            got, paid = 0, 0.0
            for quantity, where in zip(mine, choice, strict=True):
                if where < len(subset):
                    left[where] -= quantity
                    got += quantity
                    paid += quantity * subset[where]["unit_cost"]
            if min(left) >= 0 and (got > best[0] or (got == best[0] and paid < best[1])):
                best = (got, paid)
        units += best[0]
        cost += best[1]
    return units, cost


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium_instances())
def test_optimal_equals_the_subset_oracle_on_medium_instances(instance):
    # given
    units, cost = subset_oracle(instance)

    # when
    result = solve(instance, explain_runner_ups=False)

    # then
    assert problems(instance, result) == []
    assert result["units"] == units
    assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
    assert result["proven"] is True
