"""Hand-made instances whose best plan is known by reasoning."""

import pytest

from tests.sourcing.support import problems, read, solve

PARIS = (48.8566, 2.3522)
HARD = "hard-8-002.json"


def location(code, stock, *, at=PARIS, ships=True, shipment=5.0, per_km=0.0, unit=1.0, priority=1):
    return {
        "code": code,
        "lat": at[0],
        "lon": at[1],
        "ships": ships,
        "priority": priority,
        "shipment_cost": shipment,
        "cost_per_km": per_km,
        "unit_cost": unit,
        "stock": stock,
    }


def instance(lines, locations, *, penalty=0.0, split=True, cap=None):
    return {
        "order": {
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "destination": {"lat": PARIS[0], "lon": PARIS[1]},
        },
        "locations": locations,
        "policy": {"split_penalty": penalty, "allow_line_split": split, "max_shipments": cap},
    }


def solved(data, **kwargs):
    result = solve(data, **kwargs)
    assert problems(data, result) == []
    return result


def used(result):
    return sorted({a["location"] for a in result["allocations"]})


def test_it_allocates_nothing_when_nothing_is_in_stock():
    # given
    data = instance([("A", 2), ("B", 1)], [location("S1", {"A": 0}), location("S2", {})])

    # when
    result = solved(data)

    # then
    assert result["units"] == 0
    assert result["cost"] == 0
    assert result["shipments"] == 0
    assert result["unallocated"] == [
        {"line": 0, "sku": "A", "quantity": 2},
        {"line": 1, "sku": "B", "quantity": 1},
    ]
    assert result["proven"] is True


def test_it_never_uses_a_location_that_does_not_ship_even_with_the_only_stock():
    # given
    data = instance(
        [("A", 1), ("B", 1)], [location("S1", {"A": 5}, ships=False), location("S2", {"B": 1})]
    )

    # when
    result = solved(data)

    # then
    assert used(result) == ["S2"]
    assert result["unallocated"] == [{"line": 0, "sku": "A", "quantity": 1}]


def test_a_shipment_cap_leaves_units_when_it_must_and_keeps_the_most():
    # given: three locations each hold a different SKU; only two shipments allowed
    data = instance(
        [("A", 1), ("B", 3), ("C", 2)],
        [location("S1", {"A": 1}), location("S2", {"B": 3}), location("S3", {"C": 2})],
        cap=2,
    )

    # when
    result = solved(data)

    # then
    assert result["units"] == 5
    assert used(result) == ["S2", "S3"]


def test_two_lines_of_one_sku_share_the_stock_of_a_location():
    # given: 3 in stock for two lines asking 2 each
    data = instance([("A", 2), ("A", 2)], [location("S1", {"A": 3})])

    # when
    result = solved(data)

    # then
    assert result["units"] == 3
    assert sum(u["quantity"] for u in result["unallocated"]) == 1


def test_without_line_splits_each_line_comes_whole_from_one_location():
    # given: the 3 units exist only across two locations
    data = instance(
        [("A", 3), ("B", 1)],
        [location("S1", {"A": 2, "B": 1}), location("S2", {"A": 1})],
        split=False,
    )

    # when
    result = solved(data)

    # then
    assert result["units"] == 1
    assert result["unallocated"] == [{"line": 0, "sku": "A", "quantity": 3}]


def test_without_line_splits_lines_of_one_sku_pack_into_shared_stock():
    # given: lines 3, 2, 2 of one SKU; stocks 4 and 3 take 2+2 and 3 (all 7 units)
    data = instance(
        [("A", 3), ("A", 2), ("A", 2)],
        [location("S1", {"A": 4}), location("S2", {"A": 3})],
        split=False,
    )

    # when
    result = solved(data)

    # then
    assert result["units"] == 7


def test_with_zero_split_penalty_two_cheap_locations_beat_one_dear_one():
    # given
    data = instance(
        [("A", 1), ("B", 1)],
        [
            location("BOTH", {"A": 1, "B": 1}, shipment=12.0),
            location("ONLY-A", {"A": 1}, shipment=5.0),
            location("ONLY-B", {"B": 1}, shipment=5.0),
        ],
        penalty=0.0,
    )

    # when
    result = solved(data)

    # then
    assert used(result) == ["ONLY-A", "ONLY-B"]
    assert result["cost"] == pytest.approx(12.0)


def test_a_split_penalty_makes_one_location_worth_it():
    # given: the same network, but every extra shipment costs 4
    data = instance(
        [("A", 1), ("B", 1)],
        [
            location("BOTH", {"A": 1, "B": 1}, shipment=12.0),
            location("ONLY-A", {"A": 1}, shipment=5.0),
            location("ONLY-B", {"B": 1}, shipment=5.0),
        ],
        penalty=4.0,
    )

    # when
    result = solved(data)

    # then
    assert used(result) == ["BOTH"]
    assert result["cost"] == pytest.approx(14.0)


def test_a_far_location_with_everything_loses_to_two_near_ones():
    # given: the far warehouse pays ~900 km at 0.02 per km
    madrid = (40.4168, -3.7038)
    data = instance(
        [("A", 2), ("B", 2)],
        [
            location("FAR", {"A": 9, "B": 9}, at=madrid, per_km=0.02, unit=0.2),
            location("NEAR-A", {"A": 2}, per_km=0.02),
            location("NEAR-B", {"B": 2}, per_km=0.02),
        ],
        penalty=1.5,
    )

    # when
    result = solved(data)

    # then
    assert used(result) == ["NEAR-A", "NEAR-B"]
    assert result["cost"] == pytest.approx(5 + 5 + 4 * 1.0 + 1.5)
    single = [a for a in result["explanation"]["alternatives"] if "single" in a["label"]]
    assert single and single[0]["locations"] == ["FAR"] and single[0]["extra_cost"] > 0


def test_exact_ties_go_to_fewer_shipments_then_to_the_smaller_codes():
    # given: identical locations B and A, and C+D that cost the same as one of them
    twin = {"A": 2}
    data = instance(
        [("A", 2)],
        [
            location("LOC-B", twin),
            location("LOC-A", twin),
            location("LOC-C", {"A": 1}, shipment=2.5),
            location("LOC-D", {"A": 1}, shipment=2.5),
        ],
    )

    # when
    result = solved(data)

    # then: 5 + 2 = 2 * (2.5 + 1) = 7; one shipment wins, then the smaller code
    assert result["cost"] == pytest.approx(7.0)
    assert used(result) == ["LOC-A"]


def test_a_budget_that_runs_out_returns_the_best_plan_with_a_valid_bound():
    # given: a hard instance and almost no time
    data = read(HARD)
    optimum = data["expected"]["cost"]

    # when
    result = solved(data, budget_ms=0.5)

    # then
    assert result["proven"] is False
    assert result["bound"] <= optimum + 1e-6
    assert result["bound"] <= result["cost"] + 1e-6
    assert result["units"] <= data["expected"]["units"]


def test_a_generous_budget_still_proves_optimality():
    # given
    data = read(HARD)

    # when
    result = solved(data, budget_ms=60_000)

    # then
    assert result["proven"] is True
    assert result["cost"] == pytest.approx(data["expected"]["cost"], abs=1e-5)
