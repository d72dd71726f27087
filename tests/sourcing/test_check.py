"""The project's plan checker: feasibility, the stated figures, and the recorded optimum."""

from dataclasses import replace

from sourcing import Allocation, Unallocated, plan
from sourcing.check import Optimum, plan_check, plan_cost
from sourcing.jsonio import instance_from_json, optimum_from_json
from tests.sourcing.support import read
from tests.sourcing.test_edge_cases import instance, location

# NEAR is the cheap source of A, FAR the dear one; B is only at FAR; STORE does not ship.
DATA = instance(
    [("A", 2), ("B", 1)],
    [
        location("NEAR", {"A": 2}, shipment=1.0),
        location("FAR", {"A": 5, "B": 1}, shipment=4.0, unit=3.0),
        location("STORE", {"A": 9, "B": 9}, ships=False, shipment=0.0, unit=0.0),
    ],
    split=False,
    penalty=0.5,
)


def best():
    return plan(instance_from_json(DATA))


def with_allocations(original, allocations, unallocated=()):
    """Return `original` with other allocations and figures that match them."""
    typed = instance_from_json(DATA)
    return replace(
        original,
        allocations=tuple(allocations),
        unallocated=tuple(unallocated),
        units=sum(a.quantity for a in allocations),
        shipments=len({a.location for a in allocations}),
        cost=plan_cost(typed, allocations),
    )


def test_it_accepts_the_optimal_plan_against_its_optimum():
    # given
    chosen = best()

    # when
    found = plan_check(instance_from_json(DATA), chosen, Optimum(3, 10.5))

    # then: NEAR gives A (1 + 2 × 1), FAR gives B (4 + 1 × 3), one split penalty; FAR alone
    # would cost 4 + 3 × 3
    assert chosen.cost == 1.0 + 2.0 + 4.0 + 3.0 + 0.5
    assert chosen.locations == ("FAR", "NEAR")
    assert found == []


def test_it_accepts_the_engines_plans_of_the_recorded_instances():
    for name in ("mixed-7-001.json", "hard-8-000.json"):
        # given
        raw = read(name)
        typed = instance_from_json(raw)

        # when
        found = plan_check(typed, plan(typed), optimum_from_json(raw))

        # then
        assert found == [], name


def test_it_rejects_more_units_than_a_location_holds():
    # given: NEAR holds 2 of A, the plan takes 3 from it (line 0 asks 2: over-filled too)
    over = with_allocations(best(), [Allocation(0, "NEAR", "A", 3), Allocation(1, "FAR", "B", 1)])

    # when
    found = plan_check(instance_from_json(DATA), over)

    # then
    assert "NEAR gives 3 × A but holds 2" in found
    assert "line 0 receives 3 units but asks for 2" in found


def test_it_rejects_a_location_that_does_not_ship():
    # given
    from_store = with_allocations(
        best(), [Allocation(0, "STORE", "A", 2), Allocation(1, "STORE", "B", 1)]
    )

    # when
    found = plan_check(instance_from_json(DATA), from_store)

    # then
    assert "allocation 0 (line 0, STORE): the location does not ship" in found


def test_it_rejects_a_split_line_when_lines_may_not_split():
    # given
    split = with_allocations(
        best(),
        [Allocation(0, "NEAR", "A", 1), Allocation(0, "FAR", "A", 1), Allocation(1, "FAR", "B", 1)],
    )

    # when
    found = plan_check(instance_from_json(DATA), split)

    # then
    assert "line 0 comes from ['FAR', 'NEAR']; lines may not split" in found


def test_it_rejects_units_that_are_neither_allocated_nor_left_unallocated():
    # given: line 1 is dropped without being listed as unallocated
    missing = with_allocations(best(), [Allocation(0, "NEAR", "A", 2)])

    # when
    found = plan_check(instance_from_json(DATA), missing)

    # then
    assert "line 1: 0 allocated and 0 unallocated do not make its 1" in found


def test_it_rejects_more_shipments_than_the_cap():
    # given
    capped = instance_from_json({**DATA, "policy": {**DATA["policy"], "max_shipments": 1}})

    # when
    found = plan_check(capped, best())

    # then
    assert "2 locations used, the cap is 1" in found


def test_it_rejects_a_wrong_cost():
    # given
    wrong = replace(best(), cost=best().cost - 1.0)

    # when
    found = plan_check(instance_from_json(DATA), wrong)

    # then
    assert found == ["the plan says cost 9.500000, its allocations cost 10.500000"]


def test_it_rejects_a_feasible_plan_that_costs_more_than_the_optimum():
    # given: everything from FAR, feasible and correctly costed, but dearer
    dear = with_allocations(best(), [Allocation(0, "FAR", "A", 2), Allocation(1, "FAR", "B", 1)])
    optimum = Optimum(units=3, cost=10.5)

    # when
    found = plan_check(instance_from_json(DATA), dear, optimum)

    # then
    assert dear.cost == 4.0 + 3 * 3.0
    assert found == ["not optimal: cost 13.000000 where 10.500000 is possible"]


def test_it_says_so_when_a_plan_beats_the_recorded_optimum():
    # given: a record that is wrong (the optimum costs 10.5)
    optimum = Optimum(units=3, cost=12.0)

    # when
    found = plan_check(instance_from_json(DATA), best(), optimum)

    # then
    assert found == ["cost 10.500000 beats the recorded optimum of 12.000000"]


def test_it_rejects_a_plan_that_leaves_units_the_optimum_allocates():
    # given
    short = with_allocations(best(), [Allocation(0, "NEAR", "A", 2)], [Unallocated(1, "B", 1)])

    # when
    found = plan_check(instance_from_json(DATA), short, Optimum(units=3, cost=10.5))

    # then
    assert found == ["not optimal: 2 units where 3 can be allocated"]
