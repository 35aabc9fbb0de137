"""Column generation (planner.colgen): its bound is a bound of the full model, on every round."""

from __future__ import annotations

import time

import numpy as np
import pytest

from coalition.planner.colgen import relaxation, solve_relaxation
from coalition.planner.engine import recompute
from coalition.planner.generator import generate
from coalition.planner.greedy import greedy_values, objective_of
from coalition.planner.model import build_model, flow_form
from coalition.planner.schemas import PlanOptions, SolveStatus
from coalition.planner.solver import solve_highs
from coalition.planner.service import activation_for_plan, resolve_c_day
from coalition.planner.tables import build_tables
from coalition.solvers.highs import HighsModel, MatrixProblem, Outcome, SolverOptions

OPTS = PlanOptions(time_limit=30)
# the relaxation keeps these families of the full model and leaves every other one out
KEPT = ("Line-cover", "Pledge-start-def", "Pledge-unit-cycle", "Pledge-rotation-budget")


def _tables(seed: int):  # type: ignore[no-untyped-def]
    sc = generate("S", seed)
    cday, eff = resolve_c_day(sc, (), None)
    act = activation_for_plan(sc, eff, cday.day, sc.horizon_days)
    return build_tables(sc, "gen", active_from=act.active_from, options=OPTS,
                        inactive_reasons=act.inactive_reasons, spells=act.spells,
                        spell_texts=act.spell_texts)


def _lp(m, include: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    ff = flow_form(m, include=include)
    r = HighsModel(MatrixProblem(ff.cost, ff.clo, ff.chi, ff.A, ff.lo, ff.hi, None),
                   SolverOptions(method="simplex")).run()
    assert r.outcome is Outcome.OPTIMAL
    return float(r.objective)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_converged_bound_is_the_lp_of_the_relaxation_and_below_the_full_lp(seed):
    """Priced to the end, the master's value equals the LP of the full model with the capacity,
    cohesion, enablers-first and sustainment rows left out (built independently by
    build_model; flow_form writes cover and cycle rows in flow form in both), which is
    at most the LP with every row, which is at most any plan of the full model."""
    tb = _tables(seed)
    m = build_model(tb, OPTS)
    relaxed = np.zeros(m.n_rows, dtype=bool)
    for fam in KEPT:
        b = m.con(fam)
        relaxed[b.start : b.stop] = True
    res = solve_relaxation(relaxation(tb, OPTS), OPTS, deadline=time.perf_counter() + 60)
    assert res.converged and res.bound is not None
    assert res.bound == pytest.approx(_lp(m, relaxed), rel=1e-7, abs=1e-3)
    assert res.bound <= _lp(m, np.ones(m.n_rows, dtype=bool)) + 1e-3
    plan = recompute(m, greedy_values(m))
    assert res.bound <= objective_of(m, plan) + 1e-3


@pytest.mark.parametrize("seed", [1, 4])
@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_an_interrupted_pricing_still_gives_a_valid_bound(seed, rounds):
    """Stopped after 1-3 masters, the Lagrangian bound (master duals; per pledge, the box and
    its most tours) is still at most the proven optimum of the full model (solved here), while
    the restricted master's own value, which is never reported, may be above it."""
    sc = generate("S", seed)
    tb = _tables(seed)
    rel = relaxation(tb, OPTS)
    cut = solve_relaxation(rel, OPTS, deadline=time.perf_counter() + 60, max_rounds=rounds)
    assert cut.rounds <= rounds and cut.bound is not None
    m = build_model(tb, OPTS)
    opt = solve_highs(m, PlanOptions(time_limit=30, mip_rel_gap=1e-9))
    assert opt.result.status == SolveStatus.OPTIMAL and opt.result.bound is not None
    assert cut.bound <= opt.result.bound + 1e-3
    if not cut.converged:
        assert cut.master_objective is not None and cut.master_objective > cut.bound
        assert not cut.lp_bound
    assert sc.id


def test_a_lagrangian_bound_by_hand():
    """One pledge of 2 units that can start at most 2 tours (max_units), three columns with
    reduced costs -5, -3, -1 outside the master: the pledge's best is 2 units of the -5 column
    (U = 2 each, capped at 2 tours), so the bound is the master part minus 10."""
    from types import SimpleNamespace

    from coalition.planner.colgen import lagrangian_bound

    rel = SimpleNamespace(pledge=np.array([0, 0, 0, 0]), ub=np.array([2.0, 2.0, 2.0, 2.0]),
                          max_units=np.array([2.0]))
    rc = np.array([0.0, -5.0, -3.0, -1.0])  # column 0 is in the master at value 1
    assert lagrangian_bound(rel, rc, 100.0, np.array([1.0]), np.array([0])) == pytest.approx(90.0)
    rel.max_units = np.array([5.0])  # 2 of -5, 2 of -3, 1 of -1
    assert lagrangian_bound(rel, rc, 100.0, np.array([1.0]), np.array([0])) == pytest.approx(83.0)


def test_stop_reason_names_the_time_the_request_and_the_round_cap() -> None:
    import time as _time

    from coalition.planner.colgen import stop_reason

    later = _time.perf_counter() + 3600
    assert stop_reason(3, later, None, None) is None
    assert stop_reason(3, later, lambda: False, 4) is None
    assert "time limit after 3" in (stop_reason(3, 0.0, None, None) or "")
    assert "time limit" in (stop_reason(3, later, lambda: True, None) or "")
    assert (stop_reason(4, later, None, 4) or "").startswith("stopped after 4 round(s)")


@pytest.mark.parametrize("seed", [2, 5, 7])
def test_restricted_model_on_the_master_path_keeps_a_true_bound_and_a_checked_plan(seed, monkeypatch):
    """The L route on small instances: the model over max_columns, and its restricted model
    treated as large (solver.LARGE_COLUMNS lowered), so the chain master's LP values stand in for
    the solver's LP and the restricted-master path (master with every row, RENS, RINS, polish)
    plans on it. The plan passes the checker, is no worse than greedy, and the bound reported is
    at most the full model's proven optimum (solved without the size limit)."""
    from coalition.planner import solver
    from coalition.planner.check import check_plan
    from coalition.planner.service import plan_option

    sc = generate("S", seed)
    full, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20), explain=False)
    assert full.plan.solve.status == SolveStatus.OPTIMAL
    n_x = full.model.var("Assign-count").size
    monkeypatch.setattr(solver, "LARGE_COLUMNS", 0)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, max_columns=max(10, n_x // 2)), explain=False)
    p = out.plan
    assert out.model.subset is not None and out.model.x_preference is not None
    assert "restricted master" in p.solve.message  # the master path ran on the restricted model
    assert p.solve.bound is not None and p.solve.bound_provenance in ("full-lp", "full-lagrangian")
    assert p.solve.bound <= full.plan.solve.objective + 1e-6
    assert p.solve.objective <= p.baseline.objective + 1e-6
    assert p.solve.objective >= full.plan.solve.objective - 1e-6  # a plan of the full model
    assert check_plan(sc, p).ok and p.solve.check_violations == 0
