"""The planner's solve phases (coalition.planner.solver) on claims an inspector would check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from coalition.planner.schemas import PlanOptions
from coalition.planner.solver import solve_highs


@pytest.fixture(scope="module")
def hard_world():
    """A world of the analysis (embedded scenario, option small, 1,000 LHS worlds of seed 1, sample 2) whose
    restricted MIP at the target gap used to stop 1.08 % above the LP bound (then ~10 s of full
    MIP); it is now proven after the restricted pass."""
    from coalition.analysis.evaluate import Context
    from coalition.analysis.reuse import ModelCache
    from coalition.analysis.sampling import Method, sample_worlds
    from coalition.scenario.service import load_scenario

    # without the issue-15 sustainment blocks (medical, resupply): with them this world does
    # not close to 1 % within 30 s at all, and the claim under test is about the early stop
    opts = PlanOptions(time_limit=30.0, mip_rel_gap=1e-2, threads=1, medical=False, resupply=False)
    ctx = Context(load_scenario(), "small", options=opts)
    world = sample_worlds(ctx.uncertainty, 1000, Method.LHS, seed=1)[2]
    inp = ctx.inputs(world)
    rm = ModelCache(ctx.scenario, "small", opts).get(
        inp.active_from, inp.spells, c_day=inp.c_day, assumptions=list(inp.texts)
    )
    return rm.restricted(inp.active_from, inp.units), opts


def test_stop_after_restricted_pass_is_a_true_gap(hard_world):
    """An early stop must be proven: the plan satisfies every row of the full model and lies
    within the target gap of the full model's LP relaxation (every row, computed here with
    scipy, independently of the solver's row generation)."""
    from coalition.planner.greedy import greedy_values

    m, opts = hard_world
    sol = solve_highs(m, opts, start=greedy_values(m))
    res = sol.result
    assert "MIP rounds 1," in res.message  # the restricted pass only: no full MIP was run
    assert res.status.value == "optimal" and res.bound_provenance == "full-lp"
    x = sol.values
    assert x is not None
    act = m.A @ x
    assert np.all(act <= m.hi + 1e-6) and np.all(act >= m.lo - 1e-6)
    assert np.all(np.abs(x[m.integer] - np.round(x[m.integer])) < 1e-6)
    assert np.all(x >= m.clo - 1e-9) and np.all(x <= m.chi + 1e-9)
    obj = float(m.cost @ x)
    assert obj == pytest.approx(res.objective, rel=1e-9)
    lo = np.where(np.isfinite(m.lo), m.lo, -np.inf)
    hi = np.where(np.isfinite(m.hi), m.hi, np.inf)
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    from scipy.sparse import vstack

    A = m.A.tocsr()
    A_ub = vstack([A[fin_hi], -A[fin_lo]]).tocsr()
    b_ub = np.concatenate([hi[fin_hi], -lo[fin_lo]])
    lp = linprog(m.cost, A_ub=A_ub, b_ub=b_ub, bounds=list(zip(m.clo, m.chi, strict=True)), method="highs")
    assert lp.status == 0
    assert lp.fun <= obj + 1e-6
    assert res.bound <= lp.fun + 1e-6 * abs(lp.fun)  # the reported bound is a bound
    assert (obj - lp.fun) / obj <= opts.mip_rel_gap


# -- the row-generation early stop against the MIP with every row ----------------------------


def _variant(seed: int):  # type: ignore[no-untyped-def]
    """A random small instance: the generator's S world of ``seed`` with hub capacities and
    corridor rates scaled down (so capacity rows bind and row generation has work) and a random
    subset of its pledges and lines (so the sizes differ); and a target gap."""
    from coalition.planner.generator import generate

    rng = np.random.default_rng(100 + seed)
    cf, rf = rng.uniform(0.1, 0.6), rng.uniform(0.05, 0.5)
    sc = generate("S", seed)
    hubs = tuple(h.model_copy(update={"personnel_capacity": max(1, int(h.personnel_capacity * cf))}) for h in sc.hubs)
    cors = tuple(
        c.model_copy(
            update={
                "personnel_per_day": max(1, int(c.personnel_per_day * rf)),
                "tonnage_per_day": c.tonnage_per_day * rf,
            }
        )
        for c in sc.corridors
    )
    keep_p, keep_r = rng.uniform(0.5, 1), rng.uniform(0.5, 1)
    pl = [sc.pledges[i] for i in sorted(rng.choice(len(sc.pledges), int(len(sc.pledges) * keep_p), replace=False))]
    rq = [
        sc.requirements[i]
        for i in sorted(rng.choice(len(sc.requirements), int(len(sc.requirements) * keep_r), replace=False))
    ]
    gap = float(rng.choice([0.002, 0.01, 0.03]))
    return sc.model_copy(update={"hubs": hubs, "corridors": cors, "pledges": tuple(pl), "requirements": tuple(rq)}), gap


def _true_optimum(m) -> float:  # type: ignore[no-untyped-def]
    """The MIP with ALL its rows present from the start (capacity rows and cohesion links
    included, in the model's own matrix: no row generation, no flow form), solved to a strict
    gap by scipy's MILP interface."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    lo = np.where(np.isfinite(m.lo), m.lo, -np.inf)
    hi = np.where(np.isfinite(m.hi), m.hi, np.inf)
    r = milp(
        m.cost,
        constraints=LinearConstraint(m.A, lo, hi),
        integrality=m.integer.astype(int),
        bounds=Bounds(m.clo, m.chi),
        options={"mip_rel_gap": 1e-9, "time_limit": 60},
    )
    assert r.status == 0, r.message  # proven optimal
    return float(r.fun)


# seeds of _variant: 24, 32 and 40 are instances on which the full MIP's repaired plan met the
# target and the solve stopped early (found by a sweep of seeds 1-40); the others are a mix of
# sizes (45-420 Assign-count columns) and of the other ways a solve ends
EARLY_STOP_SEEDS = (2, 5, 12, 16, 24, 27, 29, 32, 38, 40)


def test_row_generation_early_stop_reports_a_true_bound() -> None:
    """On random small instances, the plan's bound never exceeds the optimum of the MIP with
    every row built from the start (minimisation), so the reported gap is never below the true
    gap; the plan satisfies every row of the full model and passes the independent checker.
    At least one instance must exercise the early stop, or the test proves nothing about it."""
    from coalition.planner.check import check_plan
    from coalition.planner.service import plan_option

    early = 0
    for seed in EARLY_STOP_SEEDS:
        sc, gap = _variant(seed)
        out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0), explain=False)
        p, m = out.plan, out.model
        early += "stopped early" in p.solve.message
        opt = _true_optimum(m)
        obj, bound = p.solve.objective, p.solve.bound
        assert obj is not None and bound is not None and p.solve.gap is not None, seed
        assert p.solve.bound_provenance in ("full-lp", "full-mip-dual"), seed
        assert obj >= opt - 1e-6 * abs(opt), seed  # a plan of the full model cannot beat its optimum
        assert bound <= opt + 1e-6 * abs(opt), (seed, bound, opt)
        true_gap = (obj - opt) / max(abs(obj), 1e-9)
        assert p.solve.gap >= true_gap - 1e-6, (seed, p.solve.gap, true_gap)
        if p.solve.status.value == "optimal":
            assert p.solve.gap <= gap * 1.01 + 1e-6, seed
        act = m.A @ out.values
        assert np.all(act <= m.hi + 1e-6) and np.all(act >= m.lo - 1e-6), seed
        report = check_plan(sc, p)
        assert report.ok, (seed, report.by_rule())
    assert early >= 1, "no instance exercised the row-generation early stop"


@pytest.mark.parametrize("compact", [True, False])
def test_every_row_from_the_start_reports_a_true_bound(compact: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """``withhold=False`` (the scenario analysis' solve: every capacity row in the first LP, the
    restricted MIP stopping once its incumbent meets the target against the full LP bound, the
    full MIP once its dual bound proves the best plan): on the random instances above the
    reported bound never exceeds the true optimum, the gap never undercuts the true gap, and
    the plan satisfies every row of the full model - with the restricted pass on an instance of
    its own columns (solver.COMPACT_RESTRICTED) and on the solve's own instance."""
    from coalition.planner import solver
    from coalition.planner.greedy import greedy_values, is_feasible
    from coalition.planner.service import plan_option

    monkeypatch.setattr(solver, "COMPACT_RESTRICTED", compact)

    for seed in EARLY_STOP_SEEDS:
        sc, gap = _variant(seed)
        m = plan_option(sc, "gen", options=PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0), explain=False)[0].model
        g = greedy_values(m)
        start = g if is_feasible(m, g) else None
        sol = solve_highs(m, PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0), start=start, withhold=False)
        res, v = sol.result, sol.values
        assert v is not None and res.objective is not None and res.bound is not None and res.gap is not None, seed
        assert "capacity rows passed 0 of 0" in res.message, seed  # nothing withheld
        opt = _true_optimum(m)
        assert res.objective >= opt - 1e-6 * abs(opt), seed
        assert res.bound <= opt + 1e-6 * abs(opt), (seed, res.bound, opt)
        assert res.gap >= (res.objective - opt) / max(abs(res.objective), 1e-9) - 1e-6, seed
        if res.status.value == "optimal":
            assert res.gap <= gap * 1.01 + 1e-6, seed
        act = m.A @ v
        assert np.all(act <= m.hi + 1e-6) and np.all(act >= m.lo - 1e-6), seed


def test_lp_basis_of_another_solve_gives_the_same_bound() -> None:
    """``solve_highs(lp_basis=...)``: the first LP of a model with other column bounds starts
    from an earlier solve's basis (the scenario analysis' worlds start from the baseline's);
    the LP is still solved to optimality, so the bound is the same as a cold solve's and the
    plan satisfies every row. A basis of a model of another shape is ignored."""
    import copy

    from coalition.planner.service import plan_option

    for seed in EARLY_STOP_SEEDS[:4]:
        sc, gap = _variant(seed)
        opts = PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0)
        m = plan_option(sc, "gen", options=opts, explain=False)[0].model
        first = solve_highs(m, opts, withhold=False)
        assert first.lp_basis is not None, seed
        # a "world": half of the Assign-count columns' bounds cut
        r = copy.copy(m)
        xb = m.var("Assign-count")
        chi = m.chi.copy()
        chi[xb.start : xb.stop : 2] = np.floor(chi[xb.start : xb.stop : 2] / 2)
        r.chi = chi
        cold = solve_highs(r, opts, withhold=False, relax=True)
        warm = solve_highs(r, opts, withhold=False, relax=True, lp_basis=first.lp_basis)
        assert cold.result.bound is not None and warm.result.bound is not None, seed
        assert warm.result.bound == pytest.approx(cold.result.bound, rel=1e-7), seed
        full = solve_highs(r, opts, withhold=False, lp_basis=first.lp_basis)
        assert "LP started from the given basis" in full.result.message, seed
        assert full.values is not None and full.result.bound is not None
        assert full.result.bound <= _true_optimum(r) * (1 + 1e-6) + 1e-6, seed
        act = r.A @ full.values
        assert np.all(act <= r.hi + 1e-6) and np.all(act >= r.lo - 1e-6), seed
        assert np.all(full.values <= r.chi + 1e-9), seed
    # a basis of another model (another shape) is not used
    other = plan_option(_variant(EARLY_STOP_SEEDS[5])[0], "gen", options=opts, explain=False)[0].model
    sol = solve_highs(other, opts, withhold=False, lp_basis=first.lp_basis)
    if other.n_cols != m.n_cols or other.n_rows != m.n_rows:
        assert "LP started from the given basis" not in sol.result.message


def test_a_start_outside_the_column_bounds_is_never_kept() -> None:
    """A start that satisfies every row but not the model's column bounds (another world's plan,
    with a column this world caps lower) is not kept, not even as a fallback: every plan the
    solver returns is within the bounds (before, only rows were checked, and this start - better
    than any plan of the model - came back as the plan, "proven")."""
    import copy

    from coalition.planner.service import plan_option

    tried = 0
    for seed in EARLY_STOP_SEEDS[:5]:
        sc, gap = _variant(seed)
        opts = PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0)
        out = plan_option(sc, "gen", options=opts, explain=False)[0]
        m, v = out.model, out.values
        xb = m.var("Assign-count")
        used = np.flatnonzero(v[xb.start : xb.stop] > 0.5)
        if not used.size:
            continue
        tried += 1
        r = copy.copy(m)
        chi = m.chi.copy()
        chi[xb.start + used] = v[xb.start + used] - 1  # every used column capped below the start
        r.chi = chi
        act = r.A @ v
        assert np.all(act <= r.hi + 1e-6) and np.all(act >= r.lo - 1e-6)  # the rows still hold
        for withhold in (True, False):
            sol = solve_highs(r, opts, start=v, withhold=withhold)
            assert sol.values is not None, seed
            assert np.all(sol.values <= r.chi + 1e-6) and np.all(sol.values >= r.clo - 1e-6), seed
            assert sol.result.objective is not None and sol.result.bound is not None
            assert sol.result.bound <= sol.result.objective + 1e-6
    assert tried >= 3


def test_large_path_second_lp_adds_the_broken_capacity_rows_and_stays_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """The restricted-master path (forced on small instances) solves a second LP with the
    capacity rows the first LP's plan breaks, on a fresh instance: its bound is never below the
    first LP's, never above the optimum of the MIP with every row, and on some instance higher
    (the case the round is for)."""
    from coalition.planner import solver
    from coalition.planner.service import plan_option

    monkeypatch.setattr(solver, "LARGE_COLUMNS", 0)
    lifted = 0
    for seed in (16, 24, 38, 2, 5):
        sc, gap = _variant(seed)
        out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, seed=0), explain=False)
        m = out.model
        opts = PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0)
        monkeypatch.setattr(solver, "LARGE_SECOND_LP", False)
        one = solve_highs(m, opts, relax=True).result
        monkeypatch.setattr(solver, "LARGE_SECOND_LP", True)
        two = solve_highs(m, opts, relax=True).result
        assert one.bound is not None and two.bound is not None
        assert two.bound >= one.bound - 1e-6 * abs(one.bound)
        opt = _true_optimum(m)
        assert two.bound <= opt + 1e-6 * abs(opt), (seed, two.bound, opt)
        if "2 LP round(s)" in two.message:
            lifted += two.bound > one.bound + 1e-6 * abs(one.bound)
    assert lifted, "no instance needed the second LP: the test proves nothing"
