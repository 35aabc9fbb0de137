"""Region sub-MIPs (coalition.planner.lns) on random small instances: the incumbent is a
feasible point of every neighbourhood's MIP, every plan of it is a plan of the whole model
(every row and bound), the search is never worse than its start and gets back what was taken
out of one region; on the column-generation path the plan passes the checker and its bound is
a bound of the full model."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.planner import engine, lns
from coalition.planner.greedy import is_feasible
from coalition.planner.schemas import PlanOptions, SolveStatus
from coalition.solvers.highs import HighsModel, Outcome, SolverOptions

from .test_solver import _variant

SEEDS = (2, 16, 24)


def _solved(seed: int):  # type: ignore[no-untyped-def]
    from coalition.planner.service import plan_option

    sc, _ = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, seed=0), explain=False)
    return sc, out


def _emptied(m, plan: np.ndarray, cols: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``plan`` with the Assign-count columns ``cols`` (bool per column) emptied and the rest
    of the plan recomputed from its assignments (a feasible, worse plan)."""
    from coalition.planner.engine import recompute

    xb = m.var("Assign-count")
    out = plan.copy()
    out[xb.start + np.flatnonzero(cols & (plan[xb.start : xb.stop] > 0.5))] = 0.0
    return recompute(m, out)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_plan_of_a_neighbourhood_is_a_plan_of_the_model(seed: int) -> None:
    """From a plan with half of its used columns emptied: in each region's neighbourhood the
    plan's own free part keeps every row of the sub-MIP, and the sub-MIP's optimum, put back
    into the plan, keeps every row and bound of the model and is no worse."""
    _, out = _solved(seed)
    m = out.model
    assert m.cost is not None
    rng = np.random.default_rng(seed)
    xb = m.var("Assign-count")
    weak = _emptied(m, out.values, rng.random(xb.size) < 0.5)
    assert is_feasible(m, weak)
    hoods = lns.region_neighbourhoods(m, weak)
    assert hoods and sum(int(g.sum()) for _, g in hoods) == xb.size  # every column in one region
    for _, free_x in hoods:
        sub = lns.sub_problem(m, weak, free_x)
        p = sub.problem
        act = p.A @ weak[sub.cols]
        assert np.all(act >= p.row_lo - 1e-6) and np.all(act <= p.row_hi + 1e-6)
        r = HighsModel(p, SolverOptions(mip_rel_gap=0.0)).run(time_limit=20)
        assert r.outcome is Outcome.OPTIMAL and r.values is not None
        cand = weak.copy()
        cand[sub.cols] = r.values
        assert m.integer is not None
        cand = np.where(m.integer, np.round(cand), cand)
        assert is_feasible(m, cand)
        assert float(m.cost @ cand) <= float(m.cost @ weak) + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_improve_is_never_worse_and_refills_an_emptied_region(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """One region's used columns emptied: the search (sub-MIPs solved to optimality) returns a
    feasible plan at most as costly as the solver's plan it came from, and at most the start."""
    import time

    monkeypatch.setattr(lns, "LNS_GAP", 0.0)
    monkeypatch.setattr(lns, "LNS_MIN_SECONDS", 0.0)
    _, out = _solved(seed)
    m = out.model
    assert m.cost is not None
    name, free_x = lns.region_neighbourhoods(m, out.values)[0]
    weak = _emptied(m, out.values, free_x)
    obj0 = float(m.cost @ weak)
    res = lns.improve(m, weak, time.perf_counter() + 60.0)
    assert is_feasible(m, res.values)
    assert res.objective == pytest.approx(float(m.cost @ res.values))
    assert res.objective <= obj0 + 1e-9
    assert res.objective <= float(m.cost @ out.values) + 1e-6 * max(1.0, abs(res.objective))
    if obj0 > float(m.cost @ out.values) + 1e-6:
        assert res.kept >= 1 and res.gain > 0


def test_column_generation_path_with_region_sub_mips_keeps_a_true_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """max_columns below the full model's size and the region sub-MIPs forced on: the plan
    passes the checker, is no worse than greedy, and its bound is at most the full model's
    proven optimum."""
    from coalition.planner.check import check_plan
    from coalition.planner.engine import PlanHooks
    from coalition.planner.generator import generate
    from coalition.planner.service import plan_option

    monkeypatch.setattr(engine, "LNS_MIN_COLUMNS", 0)
    sc = generate("S", 2)
    shown = []
    opts = PlanOptions(time_limit=10, max_columns=60)
    out, _ = plan_option(sc, "gen", options=opts, explain=False, hooks=PlanHooks(progress=shown.append))
    p = out.plan
    assert "region sub-MIPs" in p.solve.message
    # the live display: the incumbent never rises, and the bound shown is the full model's
    assert shown and all(b.incumbent >= a.incumbent - 1e-9 for a, b in zip(shown[1:], shown, strict=False))
    assert all(s.bound is not None and s.bound <= p.solve.bound + 1e-6 for s in shown)
    assert p.solve.bound_provenance in ("full-lp", "full-lagrangian") and p.solve.bound is not None
    assert p.solve.objective <= p.baseline.objective + 1e-6
    full, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=10), explain=False)
    assert full.plan.solve.status == SolveStatus.OPTIMAL
    assert p.solve.bound <= full.plan.solve.objective + 1e-6
    assert check_plan(sc, p).ok and p.solve.check_violations == 0
