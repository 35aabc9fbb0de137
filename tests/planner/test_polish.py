"""The polish (coalition.planner.polish) on random small instances: every plan it returns is a
plan of the model (every row and bound), never worse than the plan it was given, and - on the
solver's large-model path, where it runs - the reported plan passes the independent checker."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.planner import polish, solver
from coalition.planner.greedy import is_feasible
from coalition.planner.schemas import PlanOptions

from .test_solver import _variant

SEEDS = (2, 16, 24, 38)


def _weakened(m, plan: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``plan`` with about half of its used Assign-count columns emptied and the implied
    shortfall, pledge starts and presences recomputed (a feasible, worse incumbent)."""
    from coalition.planner.engine import recompute

    xb = m.var("Assign-count")
    used = np.flatnonzero(plan[xb.start : xb.stop] > 0.5)
    out = plan.copy()
    out[xb.start + used[rng.random(used.size) < 0.5]] = 0.0
    return recompute(m, out)


@pytest.mark.parametrize("seed", SEEDS)
def test_polish_never_worse_and_feasible(seed: int) -> None:
    """From the greedy plan and from a weakened one, completion and drop-and-refill (guided by
    a random preference and by none) return feasible plans whose objective is at most the
    input's; a weakened plan is strictly improved by the completion when the greedy fills any
    of what was removed."""
    from coalition.planner.service import plan_option

    sc, _ = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, seed=0), explain=False)
    m = out.model
    assert m.cost is not None
    rng = np.random.default_rng(seed)
    xb = m.var("Assign-count")
    weak = _weakened(m, out.values, rng)
    assert is_feasible(m, weak)
    for start in (out.greedy, weak, out.values):
        obj0 = float(m.cost @ start)
        for pref in (None, rng.random(xb.size)):
            done = polish.complete(m, start, pref)
            assert is_feasible(m, done.values)
            assert done.objective <= obj0 + 1e-9
            assert done.objective == pytest.approx(float(m.cost @ done.values))
            groups = polish.region_groups(m, done.values, None if pref is None else np.round(pref))
            more = polish.drop_refill(m, done.values, groups, pref)
            assert is_feasible(m, more.values)
            assert more.objective <= done.objective + 1e-9
            assert more.tried <= len(groups)
    # what was removed can be put back: the completion of the weakened plan gains something
    if float(m.cost @ weak) > float(m.cost @ out.values) + 1e-6:
        assert polish.complete(m, weak).objective < float(m.cost @ weak) - 1e-6


@pytest.mark.parametrize("seed", (24, 38))
def test_large_path_polish_plans_pass_the_checker(seed: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The large-model path forced on a small instance runs the polish; the plan it reports
    passes the checker and every row, and is never worse than the greedy baseline."""
    from coalition.planner.check import check_plan
    from coalition.planner.service import plan_option

    monkeypatch.setattr(solver, "LARGE_COLUMNS", 0)
    sc, gap = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0), explain=False)
    p, m = out.plan, out.model
    assert "restricted master" in p.solve.message
    assert "polish:" in p.solve.message  # the phase under test ran
    act = m.A @ out.values
    assert np.all(act <= m.hi + 1e-6) and np.all(act >= m.lo - 1e-6)
    assert p.baseline is not None and p.solve.objective is not None
    assert p.solve.objective <= p.baseline.objective + 1e-6
    report = check_plan(sc, p)
    assert report.ok, report.by_rule()
