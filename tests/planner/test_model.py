"""Tiny instances whose optimum is worked out by hand (in each docstring)."""

from __future__ import annotations

import pytest

from coalition.planner.engine import Activation, PlanContext, PlanHooks, make_plan
from coalition.planner.model import build_model
from coalition.planner.schemas import PlanOptions, SolveStatus, Weights
from coalition.planner.tables import build_tables

from .factory import corridor, hub, pledge, requirement, scenario

W = Weights()
OPTS = PlanOptions(period_days=28, time_limit=10)


def plan(sc, active=None, **kw):
    active = active if active is not None else {p.id: 0 for p in sc.pledges}
    return make_plan(sc, "opt", activation=Activation(active), options=OPTS.model_copy(update=kw))


def test_two_units_one_hub_one_rotation():
    """Line L1 needs 1 unit on days 0..111 (4 periods of 28 d). Pledges P1 (GBR) and P2 (FRA)
    have 1 unit each, tour 35 d, recovery 14 d, notice 0, transit 2 d. A relief arrives 7 days
    before its period (relief in place), so a 35-day tour covers exactly one 28-day period, and
    a unit is busy until its tour end + 2 d return + 14 d recovery.

    A unit can serve period t then must recover in t+1, so one unit covers periods 0 and 2, the
    other 1 and 3: coverage 100%, shortfall 0. The very first tour (day 0) arrives on day 2:
    2 days late x 10 x priority 2 (important) = 40. Later tours arrive on time because they
    depart early (relief in place). Both nations sit at H1 which no one leads: 2 x 50 = 100.
    Distance 4 tours x 100 km x 0.001 = 0.4. Optimum = 140.4.
    """
    sc = scenario(
        pledges=[
            pledge("P1", units=1, tour=35, recovery=14),
            pledge("P2", "FRA", units=1, tour=35, recovery=14),
        ],
        requirements=[requirement("L1", qty=1, start=0, end=111)],
        horizon=112,
    )
    out = plan(sc)
    assert out.result.status == SolveStatus.OPTIMAL
    assert out.plan.solve.objective == pytest.approx(140.4)
    assert out.plan.kpis.coverage_pct == 100.0
    starts = sorted((u.tour_start_day, u.pledge) for u in out.plan.unit_lines)
    assert [s for s, _ in starts] == [0, 28, 56, 84]
    # each pledge alternates: never two consecutive periods
    by_pledge = {}
    for s, p in starts:
        by_pledge.setdefault(p, []).append(s // 28)
    for periods in by_pledge.values():
        assert all(b - a >= 2 for a, b in zip(periods, periods[1:], strict=False))
    assert out.plan.kpis.days_to_close == 2
    assert out.plan.rotations and out.plan.unit_lines[0].uln.startswith("L1-")


def test_one_unit_cannot_cover_without_recovery():
    """Same line, only P1 (1 unit, tour 35 d, recovery 14 d): it can serve two of the
    four periods, so 2 unit-periods = 56 unit-days are short: 56 x 1000 x 2 = 112000.
    Serving periods 0 and 2 would make the first tour 2 days late (+40); serving 1 and 3 is on
    time (a start after the line's first period is due 7 days early, which the unit can make).
    So the optimum serves periods 1 and 3: 112000 + 50 (cohesion) + 2 x 0.1 = 112050.2.
    The gap is explained by the pledge's unit cycle (tour then recovery)."""
    sc = scenario(
        pledges=[pledge("P1", units=1, tour=35, recovery=14)],
        requirements=[requirement("L1", qty=1, start=0, end=111)],
        horizon=112,
    )
    out = plan(sc)
    assert out.plan.solve.objective == pytest.approx(112050.2)
    assert out.plan.kpis.shortfall_unit_days == pytest.approx(56)
    (gap,) = out.plan.gaps
    assert gap.periods_short == [0, 2]
    codes = [r.code for r in gap.reasons]
    assert "Pledge-unit-cycle" in codes
    cyc = next(r for r in gap.reasons if r.code == "Pledge-unit-cycle")
    assert "confirmed" in cyc.method


def test_corridor_capacity_binds():
    """Line needs 2 units of 100 people in period 0 (days 0..27). Two pledges of 1 unit each,
    both through corridor C1 with 150 persons/day. All of a unit line leaves on its departure
    day and both can leave on day 0 only (a later departure is not offered by default): only
    one unit can move. Shortfall 1 unit-period = 28 unit-days x 1000 x 2 = 56000, plus the moving unit's
    2 late days x 20 = 40 and 0.1 distance, and 50 cohesion (one nation present, no lead).
    Optimum 56090.1; the gap names Corridor-personnel-capacity."""
    sc = scenario(
        pledges=[pledge("P1", units=1), pledge("P2", units=1)],
        requirements=[requirement("L1", qty=2, start=0, end=27)],
        corridors=[corridor(personnel=150)],
        horizon=28,
    )
    out = plan(sc)
    assert out.plan.solve.objective == pytest.approx(56090.1)
    (gap,) = out.plan.gaps
    assert gap.reasons[0].code == "Corridor-personnel-capacity"
    assert gap.reasons[0].constraint == "Corridor-personnel-capacity"


def test_hub_capacity_binds():
    """Hub H1 holds 150 persons; two units of 100 are needed in period 0 -> one fits.
    Same arithmetic as the corridor case: 56090.1; explanation names Hub-personnel-capacity."""
    sc = scenario(
        pledges=[pledge("P1", units=1), pledge("P2", units=1)],
        requirements=[requirement("L1", qty=2, start=0, end=27)],
        hubs=[hub(capacity=150)],
        horizon=28,
    )
    out = plan(sc)
    assert out.plan.solve.objective == pytest.approx(56090.1)
    (gap,) = out.plan.gaps
    assert [r.code for r in gap.reasons][0] == "Hub-personnel-capacity"


def test_caveat_excludes():
    """P1 (GBR) may only serve in region 'east'; H1 is in 'west'. Only P2 (FRA, 1 unit, tour
    1 period) is eligible: it covers period 0 of a 1-period line. P1 never appears; with P2
    removed the line is fully short and the explanation names the region caveat."""
    from coalition.scenario.schemas import Caveats

    p1 = pledge("P1", caveats=Caveats(allowed_regions=("east",)), units=2)
    p2 = pledge("P2", "FRA", units=1)
    sc = scenario(pledges=[p1, p2], requirements=[requirement("L1", qty=1, start=0, end=27)], horizon=28)
    out = plan(sc)
    assert {u.pledge for u in out.plan.unit_lines} == {"P2"}
    sc2 = scenario(pledges=[p1], requirements=[requirement("L1", qty=1, start=0, end=27)], horizon=28)
    out2 = plan(sc2)
    (gap,) = out2.plan.gaps
    assert gap.reasons[0].code == "caveat:region"
    assert "P1" in gap.reasons[0].message


def test_removed_corridor_names_corridor_capacity():
    """No corridor reaches H1: nothing can arrive, the line is short, and the explanation says
    corridor capacity (zero) is what binds."""
    sc = scenario(pledges=[pledge("P1")], requirements=[requirement("L1", start=0, end=27)], corridors=[], horizon=28)
    out = plan(sc)
    (gap,) = out.plan.gaps
    assert gap.reasons[0].code == "Corridor-personnel-capacity"
    assert out.plan.kpis.coverage_pct == 0.0


def test_zero_capacity_corridor_names_corridor_capacity():
    sc = scenario(
        pledges=[pledge("P1")],
        requirements=[requirement("L1", start=0, end=27)],
        corridors=[corridor(personnel=0)],
        horizon=28,
    )
    out = plan(sc)
    (gap,) = out.plan.gaps
    assert gap.reasons[0].code == "Corridor-personnel-capacity"


def test_readiness_explained():
    """Notice-to-move 40 days + 2 transit: arrival day 42, in period 1. Period 0 is short and
    the reason is readiness; the unit serves period 1 arriving 42 - 28 + 7 = 21 days late
    against the relief-in-place day? No: period 1 is its first tour on the line after a short
    period 0 -- it is a relief start (required day 28 - 7 = 21), so 21 days late."""
    sc = scenario(
        pledges=[pledge("P1", notice=40)],
        requirements=[requirement("L1", start=0, end=55)],
        horizon=56,
    )
    out = plan(sc)
    (gap,) = out.plan.gaps
    assert gap.periods_short == [0]
    assert gap.reasons[0].code == "readiness"
    (ul,) = out.plan.unit_lines
    assert ul.arrival_day == 42 and ul.days_late == 21


def test_rotation_budget_exhaustion():
    """Two units, tours of 35 days (a relief arrives 7 days early, so one tour covers one
    28-day period), no recovery, but one sustainable rotation each: 2 tours cover 2 of the 4
    periods; the other 2 are short and Pledge-rotation-budget binds."""
    sc = scenario(
        pledges=[pledge("P1", units=2, tour=35, recovery=0, rotations=1)],
        requirements=[requirement("L1", start=0, end=111)],
        horizon=112,
    )
    out = plan(sc)
    assert out.plan.kpis.shortfall_unit_days == pytest.approx(56)
    (gap,) = out.plan.gaps
    assert "Pledge-rotation-budget" in [r.code for r in gap.reasons]


def test_no_eligible_pledge_and_inactive():
    """A line for a capability nobody offers, and a pledge that is inactive."""
    from .factory import capability

    sc = scenario(
        pledges=[pledge("P1", cap="med")],
        requirements=[requirement("L1", cap="eng", start=0, end=27), requirement("L2", cap="med", start=0, end=27)],
        caps=[capability("eng"), capability("med")],
        horizon=28,
    )
    out = plan(sc, active={})
    by = {g.requirement: g for g in out.plan.gaps}
    assert by["L1"].reasons[0].code == "no-eligible-pledge"
    assert by["L2"].reasons[0].code == "inactive"


def test_horizon_shorter_than_tour_and_line_outside_horizon():
    sc = scenario(
        pledges=[pledge("P1", tour=364)],
        requirements=[requirement("L1", start=0, end=27), requirement("L2", start=400, end=500)],
        horizon=28,
    )
    out = plan(sc)
    assert out.plan.kpis.coverage_pct == 100.0  # L2 lies outside: it has no periods
    by = {g.requirement: g for g in out.plan.gaps}
    assert by["L2"].reasons[0].code == "Line-window"


def test_model_blocks_have_stable_names():
    sc = scenario(
        pledges=[pledge("P1", tour=28, recovery=0, rotations=1)], requirements=[requirement("L1")], horizon=56
    )
    tb = build_tables(sc, "opt", active_from={"P1": 0}, options=OPTS)
    m = build_model(tb, OPTS)
    assert set(m.var_blocks) == {"Assign-count", "Line-shortfall", "Pledge-start", "Hub-nation-present"}
    assert set(m.con_blocks) == {
        "Line-cover",
        "Hub-personnel-capacity",
        "Corridor-personnel-capacity",
        "Corridor-tonnage-capacity",
        "Pledge-start-def",
        "Pledge-unit-cycle",
        "Pledge-rotation-budget",
        "Hub-nation-link",
    }


def test_lead_nation_cohesion_is_free():
    """H1 is led by GBR: a GBR unit costs no cohesion, a FRA unit 50. Both are otherwise equal,
    so the optimum uses GBR (objective without the 50)."""
    sc = scenario(
        pledges=[pledge("P1", "FRA"), pledge("P2", "GBR")],
        requirements=[requirement("L1", start=0, end=27)],
        hubs=[hub(lead="GBR")],
        horizon=28,
    )
    out = plan(sc)
    assert [u.nation for u in out.plan.unit_lines] == ["GBR"]
    assert out.plan.solve.objective == pytest.approx(40.1)


def test_too_short_time_limit_returns_best_plan_so_far():
    """A time limit far too short still returns a complete plan (at worst the greedy one),
    marked best-so-far, with the reason in the warnings."""
    from coalition.planner.generator import generate
    from coalition.planner.service import plan_option

    out, _ = plan_option(generate("S", 2), "gen", options=PlanOptions(time_limit=0.01))
    p = out.plan
    assert p.solve.best_so_far
    assert p.solve.status in (SolveStatus.TIME_LIMIT, SolveStatus.NO_SOLUTION)
    # 10 ms may not even build the model: then the plan assigns nothing and says so
    assert p.solve.phase_out_of_time in ("build", "lp")
    if p.solve.phase_out_of_time == "build":
        assert not p.unit_lines and any("ran out while building" in w for w in p.warnings)
    else:
        assert any("best plan so far" in w or "greedy" in w for w in p.warnings)
    assert p.solve.bound is None or p.solve.bound_provenance != "none"
    assert p.solve.objective <= p.baseline.objective + 1e-6
    assert p.solve.check_violations == 0


class _SlowMachine:
    """``time.perf_counter`` as the planner sees it: the real clock plus stalls that the test
    injects, so that "the machine was slow here" happens at a chosen point whatever the speed of
    the machine running the test (HiGHS itself is real and runs as usual)."""

    def __init__(self) -> None:
        import time

        self.real = time.perf_counter
        self.skew = 0.0

    def __call__(self) -> float:
        return self.real() + self.skew


@pytest.mark.parametrize("stall_in", ["build", "lp"])
def test_whole_plan_stays_within_the_time_limit(monkeypatch, stall_in):
    """--time-limit bounds the whole plan, not just the solver. No wall-clock bound is asserted:
    the clock the planner reads stalls at a chosen point (while building the model, or inside
    HiGHS's first stop check of the LP phase) and the test asserts what each phase was given and
    did with it. Stalled in building (which cannot be interrupted) past the whole limit, the
    solver gets only the minimum and the plan says the limit was too short; stalled in the LP for
    the solver's whole budget, the LP stops there, no later phase starts, and the plan names the
    lp phase. Either way the greedy plan comes back complete and the explanations are given no
    deadline past the limit."""
    import time

    import coalition.planner.engine as engine
    from coalition.planner.generator import generate
    from coalition.planner.service import plan_option

    limit = 30.0
    clock = _SlowMachine()
    monkeypatch.setattr(time, "perf_counter", clock)
    seen: dict = {"stop_checks": 0, "explain_deadlines": []}
    tables, build, solve = engine.build_tables, engine.build_model, engine._solve
    gaps, assignments = engine.explain_gaps, engine.explain_assignments

    def spy_tables(*a, **k):
        seen.setdefault("t0", clock())
        return tables(*a, **k)

    def slow_build(*a, **k):
        m = build(*a, **k)
        if stall_in == "build":
            clock.skew += limit + 1.0  # building took longer than the whole limit
        return m

    def spy_solve(model, options, solver_limit, **kw):
        seen["solver_at"], seen["solver_limit"] = clock(), solver_limit
        return solve(model, options, solver_limit, **kw)

    def spy_explain(real):
        def f(*a, deadline, **k):
            seen["explain_deadlines"].append(deadline)
            return real(*a, deadline=deadline, **k)

        return f

    def should_stop():
        # consulted from inside HiGHS's callbacks; it never asks the solver to stop, but the
        # first time (in the LP phase) the machine stalls for the solver's whole budget
        if seen["stop_checks"] == 0 and stall_in == "lp":
            clock.skew += seen["solver_limit"]
        seen["stop_checks"] += 1
        return False

    monkeypatch.setattr(engine, "build_tables", spy_tables)
    monkeypatch.setattr(engine, "build_model", slow_build)
    monkeypatch.setattr(engine, "_solve", spy_solve)
    monkeypatch.setattr(engine, "explain_gaps", spy_explain(gaps))
    monkeypatch.setattr(engine, "explain_assignments", spy_explain(assignments))
    out, _ = plan_option(
        generate("S", 1),
        "gen",
        options=PlanOptions(time_limit=limit),
        explain=True,
        hooks=PlanHooks(should_stop=should_stop),
    )
    p = out.plan
    t0 = seen["t0"]
    # the explanations were given deadlines within the limit
    assert len(seen["explain_deadlines"]) == 2
    assert all(d <= t0 + limit for d in seen["explain_deadlines"])
    # the plan is the complete greedy plan, reported as the best so far
    assert p.solve.status == SolveStatus.TIME_LIMIT and p.solve.best_so_far
    assert p.unit_lines and p.gaps and p.solve.objective == p.baseline.objective
    assert seen["stop_checks"] >= 1  # HiGHS ran, and consulted its stop checks
    if stall_in == "build":
        assert p.solve.build_seconds > limit
        # nothing was left: the solver got only the minimum (not the limit)
        assert seen["solver_limit"] == pytest.approx(engine.MIN_SOLVER_SECONDS)
        assert any("over the time limit" in w and "building the model" in w for w in p.warnings)
    else:
        # the stall (inside the LP) is not charged to building: building ended before the
        # solver started, on the same clock
        assert p.solve.build_seconds <= seen["solver_at"] - t0 + 1e-6
        # the solver was given only what building and the finishing reserve left of the limit
        assert seen["solver_limit"] <= limit - p.solve.build_seconds
        assert seen["solver_at"] + seen["solver_limit"] <= t0 + limit
        assert p.solve.phase_out_of_time == "lp"
        # stopped at its deadline: one LP round, no rounding plan, no MIP phase started
        assert "LP rounds 1, MIP rounds 0" in p.solve.message
        assert any(f"time limit of {limit:g} s reached" in w and "ran out in the lp phase" in w for w in p.warnings)
        assert not any("over the time limit" in w for w in p.warnings)


def test_departure_delays_let_units_share_a_corridor_by_day():
    """The corridor case above with departures allowed 0 or 1 day late: P1 leaves on day 0 and
    P2 on day 1 (arriving day 3, 3 days late): no shortfall. 2 x 20 + 3 x 20 lateness, 0.2
    distance, 50 cohesion: 150.2."""
    sc = scenario(
        pledges=[pledge("P1", units=1), pledge("P2", units=1)],
        requirements=[requirement("L1", qty=2, start=0, end=27)],
        corridors=[corridor(personnel=150)],
        horizon=28,
    )
    out = plan(sc, departure_delays=(0, 1))
    assert out.plan.solve.objective == pytest.approx(150.2)
    assert sorted(u.departure_day for u in out.plan.unit_lines) == [0, 1]


def test_a_model_too_large_gets_a_column_generation_bound_of_the_full_model():
    """max_columns below the full model's size: the full model is not built; column generation
    over ALL its columns gives the bound, plans are searched on a restricted model of at most
    max_columns columns. The bound must be a bound of the full model: at most the full model's
    proven optimum (solved here without the size limit), and the gap is against it."""
    from coalition.planner.check import check_plan
    from coalition.planner.generator import generate
    from coalition.planner.service import plan_option

    sc = generate("S", 2)
    out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=10, max_columns=60), explain=True)
    p = out.plan
    assert p.unit_lines and out.model.n_cols and out.model.var("Assign-count").size <= 60
    assert p.solve.bound_provenance in ("full-lp", "full-lagrangian") and p.solve.bound is not None
    assert any("max_columns" in w and "column generation" in w for w in p.warnings)
    full, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=10), explain=False)
    assert full.plan.solve.status == SolveStatus.OPTIMAL
    assert p.solve.bound <= full.plan.solve.objective + 1e-6
    assert p.solve.gap == pytest.approx((p.solve.objective - p.solve.bound) / p.solve.objective, abs=1e-6)
    assert check_plan(sc, p).ok and p.solve.check_violations == 0


def test_should_stop_returns_the_best_plan_so_far_marked_interrupted():
    """Ctrl-C (should_stop) during the solve: a complete plan comes back, marked interrupted or
    without a solver plan, never worse than greedy, and the checker accepts it."""
    from datetime import date

    from coalition.planner.check import check_plan
    from coalition.planner.generator import generate

    sc = generate("S", 3)
    out = make_plan(
        sc,
        "gen",
        activation=Activation({p.id: 0 for p in sc.pledges}),
        options=PlanOptions(time_limit=20),
        hooks=PlanHooks(should_stop=lambda: True),
        context=PlanContext(c_day=date(2026, 6, 1)),
    )
    p = out.plan
    assert p.solve.status in (SolveStatus.INTERRUPTED, SolveStatus.NO_SOLUTION)
    assert p.solve.best_so_far and p.unit_lines
    assert p.solve.objective <= p.baseline.objective + 1e-6
    assert check_plan(sc, p).ok
