"""Withdrawal: worst-k against brute force on tiny instances, N-1 by hand, Shapley CIs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from tests.analysis.factory import random_coalition, three_nations
from tests.planner.test_solver import _true_optimum  # scipy MILP with every row: the true optimum

from coalition.analysis.evaluate import Context, PlannerEvaluator
from coalition.analysis.reuse import TargetStop, repaired_to
from coalition.analysis.sampling import World
from coalition.analysis.withdrawal import DropBound, Solved, withdrawal_analysis, worst_k
from coalition.planner.greedy import is_feasible
from coalition.planner.schemas import PlanOptions, Progress

NOMINAL = World(0, 1.0, (), (), ())
EXACT = PlanOptions(time_limit=30, mip_rel_gap=0.0, threads=1)


def _ev(sc):
    return PlannerEvaluator(Context(sc, "opt", options=EXACT))


def _serial(ev):
    def solve(sets, hints=None):
        return [ev.detail(NOMINAL, s, h) for s, h in zip(sets, hints or [None] * len(sets), strict=True)]

    return solve


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [2, 3])
def test_worst_k_matches_brute_force(seed, k):
    sc = random_coalition(seed, nations=5, lines=3)
    ev = _ev(sc)
    nations = sorted({p.nation for p in sc.pledges})
    brute = {frozenset(c): ev.detail(NOMINAL, frozenset(c)).objective for c in itertools.combinations(nations, k)}
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
    for s, d in zip(pairs, got, strict=True):
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


def _world_model(ev, s):  # type: ignore[no-untyped-def]
    inp = ev.ctx.inputs(NOMINAL, frozenset(s))
    return ev.model_of(inp).restricted(inp.active_from, inp.units)


def test_subset_bounds_and_starts_never_overclaim():
    """With a loose target gap (30 %, so that plans repaired from a subset's are often within the
    gap of the subsets' bound and are not solved at all), every plan of every set of 1-3
    withdrawn nations is checked against the true optimum of its world (scipy on the full
    matrix): bound <= f(S) <= objective, an 'optimal' row is within the gap, and the objective
    is monotone (f(T) <= f(S) for T in S, the fact the subsets' bound rests on). The hard case
    must occur: some plans proven from a subset's bound without a solve."""
    gap = 0.3
    hows: dict[str, int] = {}
    for seed in range(5):
        sc = random_coalition(seed, nations=5, lines=3)
        ev = PlannerEvaluator(Context(sc, "opt", options=PlanOptions(time_limit=30, mip_rel_gap=gap, threads=1)))
        nations = sorted({p.nation for p in sc.pledges})
        base, _res = ev.detail_and_solve(NOMINAL)
        solved = Solved(_serial(ev))
        solved.plans[frozenset()] = base
        for k in (1, 2, 3):
            solved.get([frozenset(c) for c in itertools.combinations(nations, k)])
        truth = {s: _true_optimum(_world_model(ev, s)) for s in solved.plans}
        for s, d in solved.plans.items():
            f = truth[s]
            tol = 1e-6 * max(1.0, abs(f))
            assert d.objective is not None and d.objective >= f - tol
            assert d.bound is not None and d.bound <= f + tol, (seed, s, d.how)
            if d.status == "optimal":
                assert d.objective - d.bound <= gap * d.objective * 1.01 + tol
            for t in solved.plans:
                if t < s:
                    assert truth[t] <= f + tol  # monotone
            hows[d.how] = hows.get(d.how, 0) + 1
    assert hows.get("start-proven", 0) > 0, hows
    assert hows.get("solved", 0) + hows.get("solved, hint's bound", 0) > 0, hows


def test_repaired_starts_are_feasible():
    """A single nation's plan repaired to the world without a pair is a feasible plan of that
    world (every row, every bound), never better than its true optimum; the pair's row starts
    from the best of them."""
    sc = random_coalition(1, nations=5, lines=3)
    ev = _ev(sc)
    nations = sorted({p.nation for p in sc.pledges})
    singles = {n: ev.detail(NOMINAL, frozenset([n])) for n in nations}
    repaired = 0
    for a, b in itertools.combinations(nations, 2):
        r = _world_model(ev, {a, b})
        f = _true_optimum(r)
        xb = r.var("Assign-count")
        for n in (a, b):
            idx, val = singles[n].plan
            v = np.zeros(r.n_cols)
            v[xb.start + idx] = val
            out = repaired_to(r, v)
            if out is None:
                continue
            repaired += 1
            assert is_feasible(r, out)
            assert not np.any(out[xb.start : xb.stop][r.chi[xb.start : xb.stop] == 0] > 0)  # no withdrawn unit
            assert float(r.cost @ out) >= f - 1e-6 * max(1.0, abs(f))
    assert repaired > 0


def test_target_stop_only_stops_within_the_gap_of_a_bound():
    """The stop fires when the incumbent is within the gap of the higher of the solver's bound
    and the floor; never before an incumbent, and a floor lifts a weak solver bound."""
    st = TargetStop(0.1, floor=95.0)
    assert not st()
    st.progress(Progress(time=0.0, incumbent=None, bound=60.0, gap=None))
    assert not st()  # a bound alone is no plan
    st.progress(Progress(time=0.1, incumbent=110.0, bound=50.0, gap=None))
    assert not st() and st.bound == 60.0  # 110 against max(60, 95): 13.6 %
    st.progress(Progress(time=0.2, incumbent=104.0, bound=60.0, gap=None))
    assert st()  # 104 against 95: 8.7 %
    no_floor = TargetStop(0.1, floor=None)
    no_floor.progress(Progress(time=0.2, incumbent=104.0, bound=60.0, gap=None))
    assert not no_floor()  # 104 against its own bound 60: 42 %
    no_floor.progress(Progress(time=0.3, incumbent=104.0, bound=94.0, gap=None))
    assert no_floor()  # 9.6 %


def test_stall_stops_after_the_first_plan_and_says_so():
    """A stall of ~0 CPU s: the search stops at its first plan unless it is proven; the stopped plans are
    still plans of their worlds with valid bounds (scipy), and each says 'stalled' exactly when
    its gap is above the target."""
    now = [0.0]
    st = TargetStop(0.01, floor=None, stall=2.0, clock=lambda: now[0])
    assert not st()  # no plan yet
    st.progress(Progress(time=0.0, incumbent=100.0, bound=50.0, gap=None))
    now[0] = 1.5
    st.progress(Progress(time=0.0, incumbent=99.0, bound=50.0, gap=None))  # a better plan
    now[0] = 3.0
    assert not st()  # 1.5 s since the last better plan
    st.progress(Progress(time=0.0, incumbent=98.999, bound=50.0, gap=None))  # not better by STALL_GAIN
    now[0] = 3.6
    assert st() and st.stalled and not st.hit
    off = TargetStop(0.01, floor=None, stall=0.0, clock=lambda: now[0])
    off.progress(Progress(time=0.0, incumbent=100.0, bound=50.0, gap=None))
    now[0] = 1e9
    assert not off()  # 0: no stall stop
    gap = 1e-3
    sc = random_coalition(2, nations=5, lines=3)
    ev = PlannerEvaluator(Context(sc, "opt", options=PlanOptions(time_limit=30, mip_rel_gap=gap, threads=1)))
    nations = sorted({p.nation for p in sc.pledges})
    base, _res = ev.detail_and_solve(NOMINAL)
    solved = Solved(_serial(ev), stall=1e-9)
    solved.plans[frozenset()] = base
    for k in (1, 2):
        solved.get([frozenset(c) for c in itertools.combinations(nations, k)])
    stalled = 0
    for s, d in solved.plans.items():
        if not s:
            continue
        f = _true_optimum(_world_model(ev, s))
        tol = 1e-6 * max(1.0, abs(f))
        assert d.bound is not None and d.bound <= f + tol <= d.objective + 2 * tol
        rel = (d.objective - d.bound) / max(abs(d.objective), 1e-9)
        assert d.status in ("optimal", "stalled"), d.status
        if d.how != "shortcut":  # a shortcut keeps its subset's status, its gap only shrinks
            assert (d.status == "stalled") == (rel > gap * 1.01), (s, d.status, rel)
        stalled += d.status == "stalled"
    assert stalled > 0  # the hard case: some searches were stopped unproven
