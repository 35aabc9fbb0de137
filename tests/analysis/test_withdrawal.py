"""Withdrawal: worst-k against brute force on tiny instances, N-1 by hand, Shapley CIs."""

from __future__ import annotations

import itertools

import pytest

from coalition.analysis.evaluate import Context, PlannerEvaluator
from coalition.analysis.sampling import World
from coalition.analysis.withdrawal import DropBound, Solved, withdrawal_analysis, worst_k
from coalition.planner.schemas import PlanOptions
from tests.analysis.factory import random_coalition, three_nations

NOMINAL = World(0, 1.0, (), (), ())
EXACT = PlanOptions(time_limit=30, mip_rel_gap=0.0, threads=1)


def _ev(sc):
    return PlannerEvaluator(Context(sc, "opt", options=EXACT))


def _serial(ev):
    return lambda sets: [ev.detail(NOMINAL, s) for s in sets]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [2, 3])
def test_worst_k_matches_brute_force(seed, k):
    sc = random_coalition(seed, nations=5, lines=3)
    ev = _ev(sc)
    nations = sorted({p.nation for p in sc.pledges})
    brute = {frozenset(c): ev.detail(NOMINAL, frozenset(c)).objective
             for c in itertools.combinations(nations, k)}
    want = max(brute.values())
    base, res = ev.detail_and_solve(NOMINAL)
    solved = Solved(_serial(ev))
    solved.plans[frozenset()] = base
    bound = DropBound(res.model, res.values, nations)
    for s, f in brute.items():  # the drop bound is a valid upper bound on every set
        assert f <= bound.of(s) + 1e-6
    got = worst_k(solved, nations, k, bound, batch=2)
    assert got["status"] == "optimal"
    assert got["objective"] == pytest.approx(want, abs=1e-6)
    assert brute[frozenset(got["nations"])] == pytest.approx(want, abs=1e-6)


def test_shortcut_is_exact():
    sc = random_coalition(3, nations=5)
    ev = _ev(sc)
    solved = Solved(_serial(ev))
    nations = sorted({p.nation for p in sc.pledges})
    singles = solved.get([frozenset([n]) for n in nations])
    pairs = [frozenset(c) for c in itertools.combinations(nations, 2)]
    got = solved.get(pairs)
    for s, d in zip(pairs, got):
        assert d.objective == pytest.approx(ev.detail(NOMINAL, s).objective, abs=1e-6)
    assert solved.solves + solved.shortcuts == len(singles) + len(pairs)


def test_n_minus_1_by_hand():
    ev = _ev(three_nations())
    res = withdrawal_analysis(ev, NOMINAL, _serial(ev), k=2, shapley_permutations=6, seed=1)
    assert res["baseline"]["essential_coverage_pct"] == pytest.approx(100.0)
    rows = {tuple(r["nations"]): r for r in res["n_1"]}
    # AAA holds the only 'eng' unit: L2 breaks at every reporting day
    assert rows[("AAA",)]["lines_broken"] == ["L2"]
    assert rows[("AAA",)]["delta_essential_coverage_pct"] < 0
    # BBB or CCC alone: AAA's spare infantry fills in, nothing breaks
    for n in ("BBB", "CCC"):
        assert rows[(n,)]["lines_broken"] == [] and rows[(n,)]["delta_essential_coverage_pct"] == 0
    assert res["worst_k"]["nations"][0] == "AAA" and res["worst_k"]["status"] == "optimal"
    shap = {r["nation"]: r for r in res["shapley"]}
    total = sum(r["shapley_essential_coverage_pct"] for r in res["shapley"])
    # efficiency: the shares add up to v(all) - v(none) = 100 points
    assert total == pytest.approx(100.0, abs=1e-6)
    assert shap["AAA"]["shapley_essential_coverage_pct"] > shap["BBB"]["shapley_essential_coverage_pct"]
    lo, hi = shap["AAA"]["ci95"]
    assert lo <= shap["AAA"]["shapley_essential_coverage_pct"] <= hi
