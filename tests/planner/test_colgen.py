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
from coalition.planner.schemas import PlanOptions
from coalition.planner.service import activation_for_plan, resolve_c_day
from coalition.planner.tables import build_tables
from coalition.solvers.highs import HighsModel, MatrixProblem, Outcome, SolverOptions

OPTS = PlanOptions(time_limit=30)
LEFT_OUT = ("Hub-personnel-capacity", "Corridor-personnel-capacity", "Corridor-tonnage-capacity",
            "Hub-nation-link", "Precedence-before-count", "Precedence-order", "Precedence-presence")


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
    cohesion and enablers-first rows left out (built independently by build_model), which is
    at most the LP with every row, which is at most any plan of the full model."""
    tb = _tables(seed)
    m = build_model(tb, OPTS)
    relaxed = np.ones(m.n_rows, dtype=bool)
    for fam in LEFT_OUT:
        b = m.con(fam)
        relaxed[b.start : b.stop] = False
    res = solve_relaxation(relaxation(tb, OPTS), OPTS, deadline=time.perf_counter() + 60)
    assert res.converged and res.bound is not None
    assert res.bound == pytest.approx(_lp(m, relaxed), rel=1e-7, abs=1e-3)
    assert res.bound <= _lp(m, np.ones(m.n_rows, dtype=bool)) + 1e-3
    plan = recompute(m, greedy_values(m))
    assert res.bound <= objective_of(m, plan) + 1e-3


@pytest.mark.parametrize("seed", [1, 4])
def test_an_interrupted_pricing_still_gives_a_valid_bound(seed):
    """Stopped after its first master, the Lagrangian bound
    z_master + sum min(0, rc) x U is still at most the relaxation's LP value: a bound of the
    full model, never the restricted master's own value (which is above it)."""
    tb = _tables(seed)
    rel = relaxation(tb, OPTS)
    full = solve_relaxation(rel, OPTS, deadline=time.perf_counter() + 60)
    first = solve_relaxation(rel, OPTS, deadline=time.perf_counter() + 60, max_rounds=1)
    assert first.rounds == 1 and not first.converged and first.bound is not None
    assert first.bound <= full.bound + 1e-3
    assert first.master_objective is not None and first.master_objective > full.bound  # restricted
