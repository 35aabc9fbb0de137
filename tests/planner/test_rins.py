"""coalition.planner.rins' neighbourhoods on a hand-checkable model (no solve): which columns
each RINS round fixes to the best plan, and how many rounds without improvement there are; the
RENS pass on a master's LP on random small instances: its plan keeps every row, is never worse
than the best plan it was given, is the same when run again, and passes the checker."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.planner import rins, solver
from coalition.planner.greedy import greedy_values
from coalition.planner.model import build_model
from coalition.planner.rins import _rins_fixed, _rins_rounds
from coalition.planner.schemas import PlanOptions
from coalition.planner.solver import _short_lines_columns, _Solve
from coalition.planner.tables import build_tables

from .factory import corridor, hub, pledge, requirement, scenario
from .test_engine import _Clock  # time.perf_counter plus injected stalls

OPTS = PlanOptions(period_days=28, time_limit=10)


def solve_state():  # type: ignore[no-untyped-def]
    """Two hubs in two regions; L1 at H1 can be filled, L2 at H2 wants more than is pledged."""
    sc = scenario(
        pledges=[pledge("P1", units=1), pledge("P2", units=1, nation_code="FRA")],
        requirements=[requirement("L1", hub_id="H1"), requirement("L2", qty=3, hub_id="H2")],
        hubs=[hub("H1", region="west"), hub("H2", region="east", lat=50.4, lon=30.5)],
        corridors=[corridor("C1", hub_id="H1"), corridor("C2", hub_id="H2")],
    )
    tb = build_tables(sc, "opt", active_from={p.id: 0 for p in sc.pledges}, options=OPTS)
    m = build_model(tb, OPTS)
    empty = np.zeros(0, dtype=np.int64)
    st = _Solve(
        model=m,
        options=OPTS,
        progress=None,
        should_stop=None,
        t0=0.0,
        deadline=1e9,
        lazy=empty,
        deferred=empty,
        active=empty,
        large=True,
        full_model=True,
    )
    st.best = greedy_values(m)
    return st


def test_round_0_fixes_where_an_integral_lp_agrees_with_the_best_plan() -> None:
    st = solve_state()
    xb = st.model.var("Assign-count")
    bx = st.best[xb.start : xb.stop]
    keep = np.ones(xb.size, dtype=bool)
    assert (_rins_fixed(st, keep, bx.copy()) == keep).all()  # the LP is the plan: everything agrees
    off = bx.copy() + 0.5  # fractional everywhere: nothing agrees
    assert not _rins_fixed(st, keep, off).any()
    flipped = np.where(bx > 0.5, 0.0, 1.0)  # integral but different everywhere
    assert not _rins_fixed(st, keep, flipped).any()
    some = keep.copy()
    some[0] = False
    assert not _rins_fixed(st, some, bx.copy())[0]  # outside the neighbourhood: never fixed


def test_agreement_with_a_reference_plan_in_rounds_0_and_1_only() -> None:
    """After RENS the agreement of rounds 0 and 1 is taken with the plan before it (``ref``),
    not with the best plan; the region rounds ignore ``ref``."""
    st = solve_state()
    xb = st.model.var("Assign-count")
    keep = np.ones(xb.size, dtype=bool)
    bx = st.best[xb.start : xb.stop].copy()
    other = np.where(bx > 0.5, 0.0, 1.0)  # disagrees with the best plan everywhere
    assert (_rins_fixed(st, keep, other, ref=other) == keep).all()  # agrees with ref everywhere
    assert not _rins_fixed(st, keep, other).any()
    st.rins_round = 2
    assert (_rins_fixed(st, keep, other, ref=other) == _rins_fixed(st, keep, other)).all()


def test_round_1_frees_the_short_lines_and_later_rounds_one_region_each() -> None:
    st = solve_state()
    m = st.model
    xb = m.var("Assign-count")
    keep = np.ones(xb.size, dtype=bool)
    lp = st.best[xb.start : xb.stop].copy()
    short = _short_lines_columns(st)
    assert short.any() and not short.all()  # L2 is short, L1 is not
    st.rins_round = 1
    assert (_rins_fixed(st, keep, lp) == ~short).all()
    regions = sorted(set(m.tables.hub_region))
    hub_region = np.array(m.tables.hub_region)[m.tables.arc_hub[m.x_arc]]
    for r, region in enumerate(regions):
        st.rins_round = 2 + r
        fixed = _rins_fixed(st, keep, lp)
        assert not (fixed & (hub_region == region)).any() and not (fixed & short).any()
        assert (fixed == ((hub_region != region) & ~short)).all()
    assert _rins_rounds(st) == 2 + len(regions) == 4


def _rens_state(seed: int):  # type: ignore[no-untyped-def]
    """A random small instance's model (test_solver's variants), its greedy plan as the best
    plan, the solver form with every row and the LP values of a converged master over it."""
    from coalition.planner.flowform import flow_form
    from coalition.planner.master import MasterOptions, solve_master
    from coalition.planner.service import plan_option
    from coalition.planner.solver import _tighten

    from .test_solver import _variant

    sc, _ = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, seed=0), explain=False)
    m = out.model
    empty = np.zeros(m.n_rows, dtype=bool)
    st = _Solve(
        model=m,
        options=PlanOptions(time_limit=20, seed=0),
        progress=None,
        should_stop=None,
        t0=0.0,
        deadline=float("inf"),
        lazy=empty,
        deferred=empty,
        active=empty.copy(),
        large=True,
        full_model=True,
    )
    st.take(out.greedy.copy())
    ff = flow_form(m)
    _tighten(st, ff)
    xb = m.var("Assign-count")
    res = solve_master(m, ff, np.ones(xb.size, dtype=bool), deadline=float("inf"), options=MasterOptions())
    assert res.core is not None
    return st, ff, res.core[xb.start : xb.stop]


@pytest.mark.parametrize("seed", (2, 16, 24))
def test_rens_keeps_every_row_is_never_worse_and_deterministic(seed: int) -> None:
    from coalition.planner.greedy import is_feasible

    st, ff, lp_x = _rens_state(seed)
    m = st.model
    xb = m.var("Assign-count")
    prob, cols = rins.rens_problem(st, ff, lp_x)
    # the neighbourhood: the LP support only, each column between the floor and ceiling of its LP value
    support = np.flatnonzero(lp_x > 1e-6)
    x_cols = cols[(cols >= xb.start) & (cols < xb.stop)] - xb.start
    assert (x_cols == support).all()
    pos = np.searchsorted(cols, xb.start + support)
    assert (prob.col_lo[pos] >= np.floor(lp_x[support] + 1e-6) - 1e-9).all()
    assert (prob.col_hi[pos] <= np.ceil(lp_x[support] - 1e-6) + 1e-9).all()
    before = st.best_obj
    rins._rens(st, ff, lp_x)
    assert st.best is not None and is_feasible(m, st.best)
    assert st.best_obj <= before + 1e-9
    assert st.rens_runs == 1
    again, ff2, lp2 = _rens_state(seed)
    rins._rens(again, ff2, lp2)
    assert again.best is not None and np.array_equal(again.best, st.best)


@pytest.mark.parametrize("seed", (24, 38))
def test_large_path_rens_plans_pass_the_checker(seed: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The large-model path forced on a small instance runs RENS after its master; the plan it
    reports passes the checker and is never worse than the greedy baseline."""
    from coalition.planner.check import check_plan
    from coalition.planner.service import plan_option

    from .test_solver import _variant

    monkeypatch.setattr(solver, "LARGE_COLUMNS", 0)
    sc, gap = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0), explain=False)
    p = out.plan
    assert "RENS:" in p.solve.message  # the pass under test ran
    assert check_plan(sc, p).ok
    assert p.baseline is not None and p.solve.objective is not None
    assert p.solve.objective <= p.baseline.objective + 1e-6


def test_rens_extra_columns_are_the_best_priced_outside_the_support(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With RENS_EXTRA the neighbourhood also holds that many times the support's size of the
    other columns of smallest reduced cost, each within its own bounds."""
    st, ff, lp_x = _rens_state(16)
    m = st.model
    xb = m.var("Assign-count")
    rng = np.random.default_rng(0)
    rc = rng.random(xb.size)
    monkeypatch.setattr(rins, "RENS_EXTRA", 1.0)
    prob, cols = rins.rens_problem(st, ff, lp_x, rc)
    support = lp_x > 1e-6
    x_cols = cols[(cols >= xb.start) & (cols < xb.stop)] - xb.start
    extra = np.setdiff1d(x_cols, np.flatnonzero(support))
    assert np.isin(np.flatnonzero(support), x_cols).all()
    assert extra.size == min(int(support.sum()), int((~support).sum()))
    outside = np.flatnonzero(~support)
    assert rc[extra].max() <= np.sort(rc[outside])[extra.size - 1] + 1e-12  # the best-priced ones
    pos = np.searchsorted(cols, xb.start + extra)
    assert (prob.col_lo[pos] == ff.clo[xb.start + extra]).all()
    assert (prob.col_hi[pos] == ff.chi[xb.start + extra]).all()


def _forced_large(seed: int, monkeypatch):  # type: ignore[no-untyped-def]
    """The large-model path forced on a random small instance: its model, greedy plan, gap."""
    from coalition.planner.service import plan_option

    from .test_solver import _variant

    monkeypatch.setattr(solver, "LARGE_COLUMNS", 0)
    sc, gap = _variant(seed)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=20, mip_rel_gap=gap, seed=0), explain=False)
    return out.model, out.greedy, gap


@pytest.mark.parametrize("seed", (24, 38))
def test_every_phase_of_the_large_path_gets_a_deadline_within_the_solves(seed: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The phase log (Solution.phases): the LP, the master, RENS, the RINS rounds and the polish
    each ran with a deadline no later than the solve's own (the limit less the stop margin)."""
    m, greedy, gap = _forced_large(seed, monkeypatch)
    limit = 20.0
    sol = solver.solve_highs(m, PlanOptions(time_limit=limit, mip_rel_gap=gap, seed=0), start=greedy)
    names = [r.name for r in sol.phases]
    assert names[0] == "lp-0" and "master-1" in names and "rens" in names and "polish" in names
    end = limit - solver.stop_margin(m.n_cols, limit)
    assert all(r.until <= end + 1e-9 for r in sol.phases), sol.phases
    assert all(r.start <= r.end for r in sol.phases)


def test_a_sub_mip_returning_late_shrinks_every_later_deadline(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """RENS's HiGHS run is made to return STALL s after its deadline (on the clock the planner
    reads, so whatever the machine's speed): the solve says so, every later phase keeps twice
    that overrun back from its deadline, and the solve still ends within its limit."""
    import time

    from coalition.planner import budget

    stall, limit = 4.0, 30.0
    m, greedy, gap = _forced_large(24, monkeypatch)
    clock = _Clock()
    monkeypatch.setattr(time, "perf_counter", clock)
    real_model = rins._sub_mip_model
    calls: list[int] = []

    def late_model(st, prob, until):  # type: ignore[no-untyped-def]
        hm = real_model(st, prob, until)
        run = hm.run

        def late_run(time_limit=None):  # type: ignore[no-untyped-def]
            r = run(time_limit)
            if not calls:  # back STALL s after the deadline of its phase
                clock.skew += max(0.0, hm.deadline - clock()) + stall
            calls.append(1)
            return r

        hm.run = late_run
        return hm

    monkeypatch.setattr(rins, "_sub_mip_model", late_model)
    sol = solver.solve_highs(m, PlanOptions(time_limit=limit, mip_rel_gap=gap, seed=0), start=greedy)
    names = [r.name for r in sol.phases]
    i = names.index("rens")
    rens = sol.phases[i]
    assert rens.late >= stall - 1e-6
    end = limit - solver.stop_margin(m.n_cols, limit)
    after = sol.phases[i + 1 :]
    assert all(r.until <= end - budget.LATENCY_FACTOR * rens.late + 1e-6 for r in after), after
    assert "phases past their deadline: rens" in sol.result.message
    assert sol.result.time <= limit
    assert sol.values is not None
    act = m.A @ sol.values
    assert np.all(act <= m.hi + 1e-6) and np.all(act >= m.lo - 1e-6)


@pytest.mark.parametrize("seed", (2, 16))
def test_fixed_columns_substituted_out_give_the_same_mip(seed: int) -> None:
    """RENS's neighbourhood (columns at an integral LP value fixed there) with its fixed columns
    substituted out (rins.without_fixed): fewer columns and rows, the same optimum (objective
    offset included), and its solution mapped back keeps every row of the problem given."""
    from coalition.solvers.highs import HighsModel, SolverOptions

    st, ff, lp_x = _rens_state(seed)
    prob, _ = rins.rens_problem(st, ff, lp_x)
    small, free, base = rins.without_fixed(prob)
    assert (prob.col_lo == prob.col_hi).any(), "nothing fixed: the test proves nothing"
    assert small.cost.size < prob.cost.size and small.row_lo.size < prob.row_lo.size
    opts = SolverOptions(mip_rel_gap=0.0)
    whole = HighsModel(prob, opts).run()
    part = HighsModel(small, opts).run()
    assert whole.objective is not None and part.objective is not None and part.values is not None
    assert part.objective == pytest.approx(whole.objective, rel=1e-9, abs=1e-6)
    v = base.copy()
    v[free] = part.values
    act = prob.A @ v
    assert np.all(act <= prob.row_hi + 1e-6) and np.all(act >= prob.row_lo - 1e-6)
    assert float(prob.cost @ v) == pytest.approx(whole.objective, rel=1e-9, abs=1e-6)
