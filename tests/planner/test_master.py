"""The restricted master with every row (coalition.planner.master) on claims a sceptic would
check: every bound it returns is a bound of the full model's LP (computed here independently,
scipy on the model's own matrix with every row); when pricing converges its value IS that LP;
and the large-model path of the solver built on it returns plans of the full model that pass
the checker, with a bound never above the full MIP's optimum."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import vstack

from coalition.planner import solver
from coalition.planner.flowform import flow_form
from coalition.planner.master import MasterOptions, lagrangian_bound, solve_master
from coalition.planner.schemas import PlanOptions

from .test_solver import _true_optimum, _variant


def _full_lp(m, drop: tuple[str, ...] = ("Hub-nation-link",)) -> float:  # type: ignore[no-untyped-def]
    """The LP of the model's own matrix with every row but ``drop`` (scipy, no flow form)."""
    keep = np.ones(m.n_rows, dtype=bool)
    for name in drop:
        b = m.con(name)
        keep[b.start : b.stop] = False
    A = m.A.tocsr()[keep]
    lo, hi = m.lo[keep], m.hi[keep]
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    A_ub = vstack([A[fin_hi], -A[fin_lo]]).tocsr()
    b_ub = np.concatenate([hi[fin_hi], -lo[fin_lo]])
    r = linprog(m.cost, A_ub=A_ub, b_ub=b_ub, bounds=list(zip(m.clo, m.chi, strict=True)), method="highs")
    assert r.status == 0
    return float(r.fun)


def _model(seed: int):  # type: ignore[no-untyped-def]
    from coalition.planner.service import plan_option

    sc, _ = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, seed=0), explain=False)
    return sc, out.model


@pytest.mark.parametrize("seed", [16, 24, 38])
def test_master_bounds_are_bounds_of_the_full_lp(seed: int) -> None:
    """From a tiny start (each line's first column), every round's Lagrangian bound is at most
    the full LP (every row but the cohesion links, which only relax it); at convergence the
    master's value equals it."""
    _, m = _model(seed)
    xb = m.var("Assign-count")
    ff = flow_form(m)
    link = m.con("Hub-nation-link")
    lp_rows = np.flatnonzero((ff.row_origin < link.start) | (ff.row_origin >= link.stop))
    lp = _full_lp(m)
    keep = np.zeros(xb.size, dtype=bool)
    keep[np.unique(m.tables.arc_line[m.x_arc], return_index=True)[1]] = True
    seen: list[str] = []
    res = solve_master(m, ff, keep, deadline=time.perf_counter() + 60, lp_rows=lp_rows,
                       options=MasterOptions(round_columns=20, trace=seen.append))
    lagr = [float(s.split("Lagrangian ")[1].split(" ")[0].rstrip(",").replace(",", "")) for s in seen]
    assert res.rounds >= 2, "the start must need pricing, or the test proves nothing"
    assert res.converged
    assert res.objective == pytest.approx(lp, rel=1e-6)
    assert res.bound is not None and res.bound <= lp + 1e-6 * abs(lp)
    assert len(lagr) == res.rounds and all(b <= lp + 1e-6 * abs(lp) for b in lagr), (lagr, lp)
    # one round only: its Lagrangian bound is a bound too (and not the master's value)
    one = solve_master(m, ff, keep, deadline=time.perf_counter() + 60, lp_rows=lp_rows,
                       options=MasterOptions(max_rounds=1, round_columns=20))
    assert not one.converged and one.bound is not None
    assert one.bound <= lp + 1e-6 * abs(lp)
    assert one.objective is not None and one.objective >= lp - 1e-6 * abs(lp)  # a restricted LP


def _lp_duals(m, ff, rows):  # type: ignore[no-untyped-def]
    """The optimal row duals (solver form) of the LP with every Assign-count column and ``rows``."""
    from coalition.planner.master import restricted
    from coalition.solvers.highs import HighsModel, SolverOptions

    xb = m.var("Assign-count")
    sub = restricted(ff, m, np.ones(xb.size, dtype=bool), rows, integer=False)
    r = HighsModel(sub.problem, SolverOptions(method="simplex")).run()
    assert r.row_duals is not None
    y = np.zeros(ff.lo.size)
    y[rows] = r.row_duals
    return y


@pytest.mark.parametrize("seed", [16, 24, 38])
def test_cycle_bound_is_a_bound_at_any_multipliers_and_the_lp_at_the_optimal_ones(seed: int) -> None:
    """The Lagrangian bound that keeps the busy-unit rows exactly (master.cycle_bound): at the
    full LP's optimal duals it IS that LP (strong duality); at scaled, perturbed and random
    multipliers it never exceeds it (so never the MIP optimum either)."""
    from coalition.planner.master import cycle_bound

    _, m = _model(seed)
    ff = flow_form(m)
    link = m.con("Hub-nation-link")
    lp_rows = np.flatnonzero((ff.row_origin < link.start) | (ff.row_origin >= link.stop))
    lp = _full_lp(m)
    y = _lp_duals(m, ff, lp_rows)
    at_opt = cycle_bound(m, ff, y, lp_rows)
    assert at_opt is not None and at_opt == pytest.approx(lp, rel=1e-6)
    rng = np.random.default_rng(seed)
    tried = [cycle_bound(m, ff, f * y, lp_rows) for f in (0.0, 0.5, 0.9, 1.3)]
    tried += [cycle_bound(m, ff, y + rng.normal(0, 50, y.size), lp_rows) for _ in range(3)]
    tried += [cycle_bound(m, ff, rng.normal(0, 2000, y.size), lp_rows) for _ in range(3)]
    got = [b for b in tried if b is not None]
    assert len(got) >= 5
    assert all(b <= lp + 1e-6 * abs(lp) for b in got), (got, lp)
    assert min(got) < lp - 1e-3 * abs(lp)  # the multipliers tried are not all optimal ones


def test_lagrangian_bound_respects_the_pledge_limit() -> None:
    """Hand case: two columns of one pledge with reduced costs -5 and -3, 2 units each, the
    pledge may start at most 3 tours: the minimum adds -5*2 - 3*1 = -13 to z (nothing in K)."""
    rc = np.array([-5.0, -3.0, 4.0])
    out = lagrangian_bound(100.0, rc, np.zeros(3), np.zeros(3, bool), np.zeros(3, np.int64),
                           np.array([2.0, 2.0, 2.0]), np.array([3.0]))
    assert out == pytest.approx(87.0)


@pytest.mark.parametrize("seed", [24, 32, 40])
def test_large_model_path_plans_pass_and_bound_holds(seed: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The solver's large-model path (master, RINS) forced on small instances: the plan passes
    the checker and every row of the full model, the bound is at most the optimum of the MIP
    with every row built from the start, and the plan is never worse than greedy."""
    from coalition.planner.check import check_plan
    from coalition.planner.service import plan_option

    monkeypatch.setattr(solver, "LARGE_COLUMNS", 0)
    sc, gap = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0),
                         explain=False)
    p, m = out.plan, out.model
    assert "restricted master" in p.solve.message  # the path under test ran
    opt = _true_optimum(m)
    assert p.solve.bound is not None and p.solve.bound <= opt + 1e-6 * abs(opt)
    assert p.solve.objective is not None and p.solve.objective >= opt - 1e-6 * abs(opt)
    assert p.baseline is not None and p.solve.objective <= p.baseline.objective + 1e-6
    act = m.A @ out.values
    assert np.all(act <= m.hi + 1e-6) and np.all(act >= m.lo - 1e-6)
    report = check_plan(sc, p)
    assert report.ok, report.by_rule()
