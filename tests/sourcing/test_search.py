"""The pieces of the exact search, each checked where it fires against a plain reference."""

import itertools
import random
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcing import cost_search, optimal
from sourcing.incumbent import local_search, polish
from sourcing.jsonio import instance_from_json
from sourcing.lagrangian import _ascend, refine
from sourcing.model import build_model
from sourcing.reduction import MARGIN, dominated_sites
from sourcing.selection import INF, Selection
from tests.sourcing.support import problems, read, solve
from tests.sourcing.test_brute_force import medium_instances, subset_oracle
from tests.sourcing.test_edge_cases import instance, location


def selection_of(data):
    return Selection(build_model(instance_from_json(data)), None)


# -- dominance ----------------------------------------------------------------------------


def naive_dominated(model):
    """Every pair (A, B): B goes when A holds B's SKUs in full and is no dearer."""
    demand = [item.demand for item in model.items]
    out = []
    for b, site_b in enumerate(model.sites):
        for a, site_a in enumerate(model.sites):
            if a == b:
                continue
            covers = all(
                site_a.capacity[i] >= demand[i] for i, u in enumerate(site_b.capacity) if u
            )
            if not covers or site_a.fixed > site_b.fixed or site_a.unit_cost > site_b.unit_cost:
                continue
            if (
                site_a.fixed < site_b.fixed - MARGIN
                or site_a.unit_cost < site_b.unit_cost - MARGIN
                or site_a.code < site_b.code
            ):
                out.append(b)
                break
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium_instances())
def test_dominance_drops_the_same_sites_as_the_pairwise_rule(data):
    # given
    model = build_model(instance_from_json(data))

    # when / then: the scan by least fixed cost stops early, and must not miss a dominator
    assert dominated_sites(model) == naive_dominated(model)


def test_dominance_fires_on_a_dearer_copy():
    # given: B holds what A holds in full, and costs more
    data = instance(
        [("A", 2)], [location("A-SITE", {"A": 5}), location("B-SITE", {"A": 2}, shipment=6.0)]
    )
    model = build_model(instance_from_json(data))

    # when / then
    assert [model.sites[s].code for s in dominated_sites(model)] == ["B-SITE"]


# -- Lagrangian prices ----------------------------------------------------------------------


def reference_ascend(price, reduced, held, most, rounds=1000):
    """The plain DUALOC round robin: every SKU, every holder, every round."""
    active = [i for i, group in enumerate(held) if group]
    moved = True
    while moved and rounds > 0:
        rounds -= 1
        moved = False
        for i in active:
            level = price[i]
            used, following = 0, INF
            for s, u, own in held[i]:
                if own < level + 1e-12:
                    if reduced[s] <= 1e-12:
                        used += u
                    else:
                        following = min(following, level + reduced[s] / u)
                else:
                    following = min(following, own)
            if used >= most[i] or following == INF:
                continue
            for s, u, own in held[i]:
                if own < following:
                    reduced[s] -= u * (following - max(level, own))
            price[i] = following
            moved = True


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_the_ascent_with_early_exits_matches_the_plain_round_robin(data):
    # given: SKUs held by sites sorted by unit cost
    sites = data.draw(st.integers(1, 8))
    unit = [data.draw(st.sampled_from((0.2, 0.5, 1.0, 1.7))) for _ in range(sites)]
    fixed = [data.draw(st.sampled_from((2.0, 5.0, 9.5))) for _ in range(sites)]
    held, most = [], []
    for _ in range(data.draw(st.integers(1, 4))):
        holders = data.draw(st.lists(st.integers(0, sites - 1), min_size=1, unique=True))
        group = sorted(
            ((s, data.draw(st.integers(1, 4)), unit[s]) for s in holders), key=lambda h: h[2]
        )
        held.append(group)
        most.append(data.draw(st.integers(1, sum(u for _, u, _ in group))))
    price = [group[0][2] for group in held]

    # when
    fast_price, fast_reduced = list(price), list(fixed)
    _ascend(fast_price, fast_reduced, held, most, 0, 1000, None)
    slow_price, slow_reduced = list(price), list(fixed)
    reference_ascend(slow_price, slow_reduced, held, most)

    # then
    assert fast_price == pytest.approx(slow_price)
    assert fast_reduced == pytest.approx(slow_reduced)


def scratch_reduced(price, fixed, unit, holders):
    reduced = list(fixed)
    for level, group in zip(price, holders, strict=True):
        for s, u in group:
            reduced[s] -= u * max(0.0, level - unit[s])
    return reduced


def draw_node(data):
    """Draw a node's sites (unit and fixed costs), each SKU's holders sorted by unit cost
    with the units each holds, the units each SKU may take at most, and root prices."""
    sites = data.draw(st.integers(2, 7))
    unit = [data.draw(st.sampled_from((0.2, 0.5, 1.0, 1.7))) for _ in range(sites)]
    fixed = [data.draw(st.sampled_from((2.0, 5.0, 9.5))) for _ in range(sites)]
    holders, most = [], []
    for _ in range(data.draw(st.integers(1, 4))):
        chosen = data.draw(st.lists(st.integers(0, sites - 1), min_size=1, unique=True))
        group = sorted(
            ((s, data.draw(st.integers(1, 3))) for s in chosen), key=lambda h: unit[h[0]]
        )
        holders.append(group)
        most.append(data.draw(st.integers(1, sum(u for _, u in group))))
    price = [data.draw(st.sampled_from((0.3, 1.2, 2.5, 6.0))) for _ in holders]
    return sites, unit, fixed, holders, most, price


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_node_bound_from_ceilings_equals_the_bound_from_scratch(data):
    # given: root prices and reduced costs, and ceilings on some SKUs' prices
    sites, unit, fixed, holders, most, price = draw_node(data)
    ceilings = {
        i: data.draw(st.sampled_from((0.1, 0.6, 1.5, 3.0)))
        for i in range(len(holders))
        if data.draw(st.booleans())
    }
    state = [data.draw(st.integers(0, 2)) for _ in range(sites)]
    forced = [s for s in range(sites) if state[s] == 2]
    free = [s for s in range(sites) if state[s] == 1]
    common = {
        "state": state,
        "forced": forced,
        "free": free,
        "unit": unit,
        "holders": holders,
        "most": most,
    }

    # when: ceilings applied to the root reduced costs incrementally, or prices capped first
    root = scratch_reduced(price, fixed, unit, holders)
    bound, reduced, _ = refine(price, root, split_penalty=1.5, ceilings=ceilings, **common)
    capped = [min(p, ceilings.get(i, INF)) for i, p in enumerate(price)]
    again, reduced_again, _ = refine(
        capped,
        scratch_reduced(capped, fixed, unit, holders),
        split_penalty=1.5,
        ceilings={},
        **common,
    )

    # then
    assert bound == pytest.approx(again)
    if bound < INF:
        assert [reduced[s] for s in free] == pytest.approx([reduced_again[s] for s in free])


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_node_bound_stopped_at_a_limit_is_never_above_the_full_bound(data):
    # given: a node (root prices, some sites forced, some free) and a limit to cut at
    sites, unit, fixed, holders, most, price = draw_node(data)
    state = [data.draw(st.integers(0, 2)) for _ in range(sites)]
    common = {
        "state": state,
        "forced": [s for s in range(sites) if state[s] == 2],
        "free": [s for s in range(sites) if state[s] == 1],
        "unit": unit,
        "holders": holders,
        "most": most,
        "split_penalty": 1.5,
        "ceilings": {},
    }
    root = scratch_reduced(price, fixed, unit, holders)
    full, full_reduced, _ = refine(price, root, **common)
    limit = data.draw(st.floats(-20.0, 40.0))

    # when
    early, reduced, _ = refine(price, root, limit=limit, **common)

    # then: stopped only above the limit, below the full bound; else the same answer
    if early <= limit:
        assert early == full
        assert reduced == full_reduced
    else:
        assert early <= full + 1e-9
        assert full > limit


# -- the last slot -------------------------------------------------------------------------


def test_the_last_slot_scan_finds_exactly_the_sites_that_add_enough():
    # given: a cap of two; S1 chosen leaves A and B short
    data = instance(
        [("A", 3), ("B", 3), ("C", 1)],
        [
            location("S1", {"A": 1, "B": 1, "C": 1}),
            location("S2", {"A": 2, "B": 2}),
            location("S3", {"A": 2}),
            location("S4", {"B": 1, "C": 1}),
            location("S5", {"C": 1}),
        ],
        cap=2,
    )
    sel = selection_of(data)
    sel.include(0)
    missing = [m - c for m, c in zip(sel.most, sel.cover, strict=True)]

    for more in range(6):
        # when
        found = sorted(sel.gains_above(more, alone=True))

        # then: a direct count over every allowed site
        direct = []
        for s in range(sel.n):
            if sel.allowed[s]:
                gain = sum(min(u, missing[i]) for i, u in sel.caps[s] if missing[i] > 0)
                if gain > more:
                    direct.append((gain, s))
        assert found == sorted(direct)


def test_the_units_search_beats_the_greedy_cover_under_a_cap():
    # given: the greedy takes BOTH (4 units) first, then adds 1; ONLY-A + ONLY-B give 6
    data = instance(
        [("A", 3), ("B", 3)],
        [
            location("BOTH", {"A": 2, "B": 2}),
            location("ONLY-A", {"A": 3}),
            location("ONLY-B", {"B": 3}),
        ],
        cap=2,
    )

    # when
    result = solve(data, explain_runner_ups=False)

    # then
    assert result["units"] == 6
    assert sorted({a["location"] for a in result["allocations"]}) == ["ONLY-A", "ONLY-B"]


# -- incumbents ----------------------------------------------------------------------------


def test_the_lagrangian_heuristic_keeps_to_the_cap_when_more_sites_are_opened():
    # given: four sites, each worth opening on its own, and a cap of two
    data = instance(
        [("A", 1), ("B", 1), ("C", 1), ("D", 1)],
        [
            location("S1", {"A": 1, "B": 1, "C": 1, "D": 1}, shipment=9.0),
            location("S2", {"A": 1, "B": 1}),
            location("S3", {"C": 1, "D": 1}),
            location("S4", {"A": 1, "C": 1}),
        ],
        cap=2,
    )
    sel = selection_of(data)

    # when: started from every site
    polish(sel, sum(sel.most), range(sel.n))

    # then
    assert sel.best is not None
    assert sel.best.shipments <= 2
    assert sel.best.units == 4


def test_the_local_search_swaps_a_site_for_a_cheaper_one():
    # given: a plan using DEAR where CHEAP holds the same units
    data = instance(
        [("A", 2), ("B", 1)],
        [
            location("BASE", {"A": 2}),
            location("DEAR", {"B": 1}, shipment=9.0),
            location("CHEAP", {"B": 1}, shipment=2.0),
        ],
    )
    sel = selection_of(data)
    target = sum(sel.most)
    codes = [site.code for site in sel.model.sites]
    sel.choose([codes.index("BASE"), codes.index("DEAR")])
    sel.offer(sel.evaluate())
    sel.reset()

    # when
    local_search(sel, target)

    # then
    assert sel.best.codes == ("BASE", "CHEAP")


def test_the_local_search_goes_on_after_a_swap_trims_other_sites():
    # given: swapping L0 (dear units) for L3 makes L2 or L4 redundant, which the trim drops
    data = instance(
        [("B", 3), ("B", 3), ("B", 3)],
        [
            location("L0", {"B": 5}, shipment=0.0, per_km=0.003, unit=0.35, at=(43.0, 0.0)),
            location("L2", {"B": 3}, shipment=0.0, unit=0.2, at=(43.0, 0.0)),
            location("L3", {"B": 4}, shipment=0.0, unit=0.2, at=(43.0, 0.0)),
            location("L4", {"B": 1}, shipment=0.0, unit=0.2, at=(43.0, 0.0)),
        ],
        penalty=1.5,
    )
    sel = selection_of(data)
    target = sum(sel.most)
    codes = [site.code for site in sel.model.sites]
    sel.choose([codes.index(code) for code in ("L0", "L2", "L4")])
    sel.offer(sel.evaluate())
    sel.reset()

    # when
    local_search(sel, target)

    # then
    assert sel.best.units == target
    units, cost = subset_oracle(data)
    assert sel.best.cost == pytest.approx(cost)


def test_the_split_relaxation_never_costs_more_than_the_packed_plan():
    # given: lines that cannot be split, over sites whose stock splits them badly
    data = instance(
        [("A", 2), ("A", 2), ("B", 3)],
        [
            location("S1", {"A": 3, "B": 1}, unit=0.5),
            location("S2", {"A": 2, "B": 3}, unit=1.5),
            location("S3", {"A": 2}, unit=1.0),
        ],
        split=False,
    )
    sel = selection_of(data)
    for size in (1, 2):
        for chosen in itertools.combinations(range(sel.n), size):
            for extra in range(sel.n):
                if extra in chosen:
                    continue
                sel.choose(chosen)
                # when
                relaxed = sel.split_cost_with(extra)
                sel.include(extra)

                # then: INF exactly when some SKU cannot get its most even split
                if sel.units == sum(sel.most):
                    assert relaxed <= sel.cost() + 1e-9
                if relaxed == INF:
                    assert sel.units < sum(sel.most)
    sel.reset()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium_instances())
def test_with_incumbents_tried_on_every_instance_the_plan_is_still_optimal(data):
    # given: the heuristics usually skip instances this small; force them
    units, cost = subset_oracle(data)

    # when
    with mock.patch.object(optimal, "SMALL", 0):
        result = solve(data, explain_runner_ups=False)

    # then
    assert problems(data, result) == []
    assert result["units"] == units
    assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)


# -- node bounds ---------------------------------------------------------------------------


def test_a_nodes_own_bound_cuts_children_before_they_are_searched():
    # given: an uncapped 25-line order over ~250 locations
    data = read("hard-8-002.json")
    model = build_model(instance_from_json(data))
    branch = cost_search.CostSearch.branch

    def without_node_bound(self, children, base, node=None):
        return branch(self, children, base, None)

    # when
    with_cut = optimal.solve(model)
    with mock.patch.object(cost_search.CostSearch, "branch", without_node_bound):
        without_cut = optimal.solve(model)

    # then: the rule fired (fewer nodes) and changed nothing else
    assert with_cut.nodes < without_cut.nodes
    assert with_cut.proven and without_cut.proven
    assert with_cut.solution == without_cut.solution
    assert with_cut.solution.cost == pytest.approx(data["expected"]["cost"], abs=1e-5)


def test_node_bounds_rule_sites_out_of_subtrees():
    # given
    data = read("hard-8-002.json")
    ruled = []
    refined = cost_search.CostSearch.refined

    def counting(self, prices):
        bound, ruled_out, reduced = refined(self, prices)
        ruled.append(len(ruled_out))
        return bound, ruled_out, reduced

    # when
    with mock.patch.object(cost_search.CostSearch, "refined", counting):
        result = solve(data, explain_runner_ups=False)

    # then
    assert sum(ruled) > 0
    assert result["cost"] == pytest.approx(data["expected"]["cost"], abs=1e-5)


def test_random_order_requests_match_the_subset_oracle():
    # given: 3-line orders over a few locations, like those of the order-capture path
    rng = random.Random(11)
    for _ in range(40):
        locations = [
            location(
                f"L{n}",
                {sku: rng.randint(0, 4) for sku in "ABC" if rng.random() < 0.7},
                at=(rng.uniform(44, 50), rng.uniform(0, 6)),
                shipment=rng.choice((3.0, 5.0, 8.0)),
                per_km=rng.choice((0.0, 0.004)),
                unit=rng.choice((0.3, 1.0, 2.0)),
            )
            for n in range(rng.randint(3, 7))
        ]
        lines = [(rng.choice("ABC"), rng.randint(1, 3)) for _ in range(3)]
        data = instance(lines, locations, penalty=rng.choice((0.0, 1.5)))
        units, cost = subset_oracle(data)

        # when
        result = solve(data, budget_ms=1000)

        # then
        assert result["units"] == units
        assert result["cost"] == pytest.approx(cost, rel=1e-6, abs=1e-6)
