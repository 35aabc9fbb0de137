"""The chain bound (planner.lagrange): a lower bound of the full model at ANY multipliers."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from coalition.planner.colgen import relaxation, solve_relaxation
from coalition.planner.lagrange import ascent, chain_master, chain_solve, dual_problem, evaluate, multipliers
from coalition.planner.model import build_model
from coalition.planner.schemas import PlanOptions, SolveStatus
from coalition.planner.solver import solve_highs
from planner.test_colgen import KEPT, OPTS, _lp, _tables


def _brute(group, start, end, weight, g):  # type: ignore[no-untyped-def]
    idx = [i for i in range(group.size) if group[i] == g]
    best = 0.0
    for r in range(1, len(idx) + 1):
        for c in itertools.combinations(idx, r):
            iv = sorted((start[i], end[i]) for i in c)
            if all(iv[k][1] < iv[k + 1][0] for k in range(len(iv) - 1)):
                best = min(best, sum(weight[i] for i in c))
    return best


def test_chain_solve_is_the_best_set_of_disjoint_intervals():
    """Against every subset of up to 7 random intervals in 2 groups: the least total weight of
    pairwise disjoint closed intervals, and the chain returned is disjoint and attains it."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        g = rng.integers(0, 2, n)
        s = rng.integers(0, 10, n)
        e = s + rng.integers(0, 5, n)
        w = rng.normal(size=n)
        o = np.argsort(e, kind="stable")
        g, s, e, w = g[o], s[o], e[o], w[o]
        best, picked = chain_solve(g, s, e, w, 2)
        for k in range(2):
            assert best[k] == pytest.approx(_brute(g, s, e, w, k), abs=1e-9)
            mine = sorted((int(s[i]), int(e[i])) for i in picked if g[i] == k)
            assert all(mine[i][1] < mine[i + 1][0] for i in range(len(mine) - 1))
            assert sum(w[i] for i in picked if g[i] == k) == pytest.approx(best[k], abs=1e-9)


def test_touching_intervals_are_not_disjoint():
    """Closed intervals sharing a day overlap (a unit busy until day 5 cannot leave on day 5)."""
    g = np.array([0, 0])
    s, e = np.array([0, 5]), np.array([5, 9])
    best, _ = chain_solve(g, s, e, np.array([-1.0, -2.0]), 1)
    assert best[0] == -2.0
    best, _ = chain_solve(g, np.array([0, 6]), e, np.array([-1.0, -2.0]), 1)
    assert best[0] == -3.0


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_the_bound_holds_at_any_multipliers_and_the_ascent_closes_in(seed):
    """L(pi, mu) <= the full model's LP optimum <= its MIP optimum, at zero, at random, at
    early-stopped masters' duals and all along an ascent; the ascent ends within 0.5% of the
    relaxation's LP (the most any Lagrangian bound of it can reach is its LP with exact cycle
    rows, which is at least the grid master's)."""
    tb = _tables(seed)
    rel = relaxation(tb, OPTS)
    dp = dual_problem(rel)
    m = build_model(tb, OPTS)
    full_lp = _lp(m, np.ones(m.n_rows, dtype=bool))
    opt = solve_highs(m, PlanOptions(time_limit=30, mip_rel_gap=1e-9))
    assert opt.result.status == SolveStatus.OPTIMAL and opt.result.bound is not None
    assert full_lp <= opt.result.bound + 1e-3
    tol = 1e-6 * abs(full_lp) + 1e-3  # float noise only
    rng = np.random.default_rng(seed)
    points = [(np.zeros(rel.n_ct), np.zeros(dp.budget.size))]
    points.append((rng.uniform(0, 1, rel.n_ct) * dp.c_u, rng.uniform(0, 1e4, dp.budget.size)))
    for rounds in (1, 2):
        cut = solve_relaxation(rel, OPTS, deadline=time.perf_counter() + 60, max_rounds=rounds)
        assert cut.duals is not None
        points.append(multipliers(rel, cut.duals))
    for pi, mu in points:
        assert evaluate(dp, pi, mu).value <= full_lp + tol
    seen: list[float] = []
    res = ascent(
        dp,
        *points[2],
        time.perf_counter() + 30,
        target=opt.result.bound,
        max_iterations=300,
        trace=lambda it, v, lam: seen.append(v),
    )
    assert max(seen) <= full_lp + tol and res.bound <= full_lp + tol
    conv = solve_relaxation(rel, OPTS, deadline=time.perf_counter() + 60)
    assert conv.converged and conv.bound is not None
    assert res.bound >= conv.bound - 5e-3 * abs(conv.bound)


def test_the_bound_by_hand():
    """One line of one period (qty 2, a unit short costs 10), one pledge of 2 units with two
    overlapping columns (cost 1 and 3) that each cover it: at pi = 10 the pledge's best chain
    is the cost-1 column (rc -9), so L = 2*10 + 2*min(0, 0) + 2*(-9) = 2 = the optimum 2*1."""
    from coalition.planner.lagrange import DualProblem

    dp = DualProblem(
        order=np.array([0, 1]),
        cost=np.array([1.0, 3.0]),
        row_first=np.array([0, 0]),
        row_last=np.array([0, 0]),
        pledge=np.array([0, 0]),
        depart=np.array([0, 1]),
        end=np.array([5, 6]),
        budget_row=np.array([-1, -1]),
        units=np.array([2.0]),
        qty=np.array([2.0]),
        c_u=np.array([10.0]),
        budget=np.zeros(0),
        n_pledges=1,
        budget_row_of_pledge=np.array([-1]),
    )
    ev = evaluate(dp, np.array([10.0]), np.zeros(0))
    assert ev.value == pytest.approx(2.0)
    assert list(ev.columns) == [0] and ev.g_pi[0] == pytest.approx(0.0)
    # at pi = 5 the line is still best covered (rc -4): L = 10 + 0 - 8 = 2, the same
    assert evaluate(dp, np.array([5.0]), np.zeros(0)).value == pytest.approx(2.0)
    # at pi = 0 nothing is worth doing: L = 2*min(0, 10) = 0
    assert evaluate(dp, np.array([0.0]), np.zeros(0)).value == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_chain_master_converges_to_the_relaxations_lp(seed):
    """Priced to the end, the chain master's value is the LP of the full model with only the
    cover, cycle (exact, every departure day) and budget rows (build_model's, solved here
    directly), which is at most the LP with every row."""
    tb = _tables(seed)
    m = build_model(tb, OPTS)
    kept = np.zeros(m.n_rows, dtype=bool)
    for fam in KEPT:
        b = m.con(fam)
        kept[b.start : b.stop] = True
    res = chain_master(dual_problem(relaxation(tb, OPTS)), time.perf_counter() + 60)
    assert res.converged and res.bound is not None
    assert res.bound == pytest.approx(_lp(m, kept), rel=1e-7, abs=1e-3)
    assert res.bound <= _lp(m, np.ones(m.n_rows, dtype=bool)) + 1e-3
    assert res.columns.size and (res.values >= -1e-9).all()


@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_an_early_stopped_chain_master_is_still_below_the_optimum(rounds):
    """Stopped after 1-3 masters, Lasdon's bound (L at the master's duals) is at most the full
    model's LP and its proven MIP optimum, while the master's own value may be above them."""
    tb = _tables(4)
    m = build_model(tb, OPTS)
    full_lp = _lp(m, np.ones(m.n_rows, dtype=bool))
    opt = solve_highs(m, PlanOptions(time_limit=30, mip_rel_gap=1e-9))
    assert opt.result.bound is not None and full_lp <= opt.result.bound + 1e-3
    cut = chain_master(dual_problem(relaxation(tb, OPTS)), time.perf_counter() + 60, max_rounds=rounds)
    assert cut.rounds <= rounds and cut.bound is not None
    assert cut.bound <= full_lp + 1e-6 * abs(full_lp) + 1e-3
    if not cut.converged:
        assert cut.objective is not None and cut.objective >= cut.bound
