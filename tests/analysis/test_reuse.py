"""The model built once and modified per world solves the same problem as a fresh plan."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.analysis.reuse import ModelCache, assumption_texts
from coalition.planner.schemas import PlanOptions
from coalition.planner.service import activation_for_plan, plan_option, resolve_c_day
from coalition.scenario.schemas import Assumption
from coalition.scenario.service import load_scenario

# a 2 % gap (the analysis default) lets most solves stop at a proof instead of the limit; the
# comparisons below go through bounds, valid at any gap
OPTS = PlanOptions(time_limit=10, mip_rel_gap=0.02)


def same_problem(got, want) -> None:
    """Two solves of the same problem: each one's lower bound is at most the other's plan
    (with the issue-15 sustainment blocks a world of `small` rarely closes to 1 % in seconds,
    so objectives are compared through the bounds, not for equality)."""
    assert got.objective is not None and want.objective is not None
    assert got.bound is not None and want.bound is not None
    assert want.bound <= got.objective * (1 + 1e-6), (want.bound, got.objective)
    assert got.bound <= want.objective * (1 + 1e-6), (got.bound, want.objective)


WORLDS = [
    (),
    (Assumption(condition="us_backstop", value=True), Assumption(condition="parliament.DEU", value=True)),
    (Assumption(condition="parliament.GBR", value=True), Assumption(condition="clear_mandate", value=True)),
]


def _activation(sc, ass):
    """The planner's activation of a world: (activation day, active spells) per active pledge."""
    cday, eff = resolve_c_day(sc, ass, None)
    act = activation_for_plan(sc, eff, cday.day, sc.horizon_days)
    return dict(act.active_from), dict(act.spells)


def _world(sc, ass):
    """C-day and assumption texts of a world, for the planner's sustainment data."""
    cday, eff = resolve_c_day(sc, ass, None)
    return {"c_day": cday.day, "assumptions": assumption_texts(eff)}


def test_reused_model_matches_fresh_plans_in_any_order():
    sc = load_scenario()
    cache = ModelCache(sc, "small", OPTS)
    fresh = [plan_option(sc, "small", assumptions=a, explain=False, options=OPTS)[0].plan.solve for a in WORLDS[:2]]
    # solve in an order that revisits a world: a stale solution would show as a mismatch
    for i in (0, 1, 0):
        active, spells = _activation(sc, WORLDS[i])
        rm = cache.get(active, spells, **_world(sc, WORLDS[i]))
        got = rm.solve(active, {}, 10, spells=spells)
        same_problem(got, fresh[i])
        # the columns the 10-1-2 rows forbid in every world are fixed at zero up front (and the
        # equivalence above shows that changes neither plans nor bounds)
        assert rm.alive is not None and not rm.alive.all()
        xb = got.model.var("Assign-count")
        assert (got.model.chi[xb.start : xb.stop][~rm.alive] == 0).all()


def test_units_are_bounds_participation_matches_a_scenario_with_fewer_units():
    sc = load_scenario()
    active, spells = _activation(sc, WORLDS[0])
    assert "FRA-02" in active
    # FRA-02 deploys 1 of its 3 infantry battalions
    pledges = tuple(p.model_copy(update={"units": 1}) if p.id == "FRA-02" else p for p in sc.pledges)
    fewer = sc.model_copy(update={"pledges": pledges})
    want = plan_option(fewer, "small", assumptions=WORLDS[0], explain=False, options=OPTS)[0].plan.solve
    rm = ModelCache(sc, "small", OPTS).get(active, spells, **_world(sc, WORLDS[0]))
    got = rm.solve(active, {"FRA-02": 1}, 10, spells=spells)
    same_problem(got, want)
    full = rm.solve(active, {}, 10, spells=spells)
    assert full.bound <= got.objective  # fewer units never help


def test_cache_builds_one_model_per_activation_profile():
    sc = load_scenario()
    cache = ModelCache(sc, "small", OPTS)
    active0, spells0 = _activation(sc, WORLDS[0])
    a = cache.get(active0, spells0)
    b = cache.get(active0, spells0)
    assert a is b and cache.builds == 1  # the same activation profile: the same columns
    late = dict(active0)
    first = next(iter(late))
    late[first] = 30
    late_spells = {**spells0, first: ((30, None),)}
    c = cache.get(late, late_spells)
    assert c is not a and cache.builds == 2
    with pytest.raises(ValueError):
        a.solve(late, {}, 10, spells=late_spells)
    # a spell that ends earlier (an expiry, a condition turning false) changes the columns too
    short = {**spells0, first: ((spells0[first][0][0], 200),)}
    d = cache.get(active0, short)
    assert d is not a and cache.builds == 3
    with pytest.raises(ValueError):
        a.solve(active0, {}, 10, spells=short)


def test_sustainment_data_of_the_world_is_part_of_the_key():
    """The resupply tonnage depends on the host-nation conditions holding at the world's C-day
    (planner.sustainment.attach): a world where they differ must not reuse another's model."""
    sc = load_scenario()
    hn = sc.sustainment.host_nation
    i = next(k for k, h in enumerate(hn) if h.condition)
    rows = tuple(h.model_copy(update={"condition": "us_backstop"}) if k == i else h for k, h in enumerate(hn))
    sc = sc.model_copy(update={"sustainment": sc.sustainment.model_copy(update={"host_nation": rows})})
    cache = ModelCache(sc, "small", OPTS)
    active, spells = _activation(sc, WORLDS[0])
    c_day = _world(sc, WORLDS[0])["c_day"]
    yes = cache.get(active, spells, c_day=c_day, assumptions=["us_backstop=true"])
    assert cache.get(active, spells, c_day=c_day, assumptions=["us_backstop=true"]) is yes
    no = cache.get(active, spells, c_day=c_day, assumptions=["us_backstop=false"])
    assert no is not yes and no.sustain_key != yes.sustain_key and cache.builds == 2


def test_fast_path_plans_pass_the_checker_and_are_within_their_gap_of_fresh_plans():
    """Sampled worlds through the analysis' fast path (superset model, bounds per world, every
    capacity row from the first LP, the early stops of the solver): each world's plan is a plan
    of the world's full model - the planner's independent checker accepts it on the world's own
    scenario (deployed units as pledged units) - and its objective is within its reported gap
    of a fresh `coalition plan` solve of that scenario (the reported bound is a bound of it)."""
    from coalition.analysis.evaluate import Context, PlannerEvaluator
    from coalition.analysis.sampling import Method, sample_worlds
    from coalition.planner.check import check_plan
    from coalition.planner.engine import plan_sections

    sc = load_scenario()
    ctx = Context(sc, "small", options=OPTS)
    ev = PlannerEvaluator(ctx)
    worlds = sample_worlds(ctx.uncertainty, 6, Method.LHS, seed=3)
    # two worlds where participation cuts some pledges (the bounds of the fast path matter)
    picked = [w for w in worlds if any(0 < n < ctx.pledge_units[p] for p, n in ctx.inputs(w).units.items())][:2]
    assert len(picked) == 2
    for w in picked:
        inp = ctx.inputs(w)
        got = ev.model_of(inp).solve(inp.active_from, inp.units, 10, spells=inp.spells, repaired=True)
        assert got.model is not None and got.values is not None and got.gap is not None
        pledges = tuple(
            p.model_copy(update={"units": inp.units[p.id]}) if p.id in inp.units else p
            for p in sc.pledges
            if inp.units.get(p.id, 1) > 0
        )
        world_sc = sc.model_copy(update={"pledges": pledges})
        fresh = plan_option(world_sc, "small", assumptions=inp.assumptions, explain=False, options=OPTS)[0].plan
        solve = fresh.solve.model_copy(update={"objective": got.objective, "bound": got.bound, "gap": got.gap})
        sections = plan_sections(world_sc, "small", got.model, got.values, fresh.c_day, [])
        plan = fresh.model_copy(update={**sections, "solve": solve})
        report = check_plan(world_sc, plan)
        assert report.ok, report.by_rule()
        want = fresh.solve
        assert want.objective is not None and want.bound is not None and got.bound is not None
        # bound <= optimum <= fresh objective, and objective x (1 - gap) = bound
        assert got.objective * (1 - got.gap) <= want.objective * (1 + 1e-6)
        assert got.bound <= want.objective * (1 + 1e-6) and want.bound <= got.objective * (1 + 1e-6)


def test_sustainment_data_is_computed_once_per_set_of_resupply_conditions():
    """The resupply data depends on a world's C-day and assumptions only through which
    host-nation conditions hold then: worlds that differ only in C-day get different data when a
    condition turns true between their C-days, and share it (computed once) when none does."""
    from datetime import timedelta

    from coalition.analysis.reuse import sustain_key
    from coalition.planner import sustainment
    from coalition.planner.tables import build_tables

    sc = load_scenario()
    hn = sc.sustainment.host_nation
    i = next(k for k, h in enumerate(hn) if h.condition)
    rows = tuple(h.model_copy(update={"condition": "us_backstop"}) if k == i else h for k, h in enumerate(hn))
    sc = sc.model_copy(update={"sustainment": sc.sustainment.model_copy(update={"host_nation": rows})})
    cache = ModelCache(sc, "small", OPTS)
    active, spells = _activation(sc, WORLDS[0])
    d = _world(sc, WORLDS[0])["c_day"]
    backstop = [f"us_backstop={(d + timedelta(days=10)).isoformat()}"]  # true from C-day + 10
    before = cache.get(active, spells, c_day=d, assumptions=backstop)
    after = cache.get(active, spells, c_day=d + timedelta(days=20), assumptions=backstop)
    assert after is not before and after.sustain_key != before.sustain_key
    # another C-day and no assumption: the same conditions as `before`, so its data and model
    elsewhere = cache.get(active, spells, c_day=d + timedelta(days=5), assumptions=[])
    assert elsewhere is before and cache.sustain_builds == 2 and cache.builds == 2
    # and that shared data is the data a fresh computation for that world gives (not stale)
    tables = build_tables(sc, "small", options=OPTS, active_from={p.id: 0 for p in sc.pledges})
    fresh = sustainment.attach(tables, sc, OPTS, d + timedelta(days=5), []).sustain
    assert sustain_key(fresh) == before.sustain_key


def test_worlds_start_their_lp_from_the_baseline_basis_with_the_same_bound(monkeypatch):
    """Monte Carlo worlds start their first LP from the baseline world's optimal basis
    (reuse.WARM_LP): one basis per model, of the shape of every world's first LP; a world
    solved from it and one solved cold solve the same problem (each one's bound is at most the
    other's plan), and both plans satisfy every row and bound of the world's model."""
    from coalition.analysis import reuse
    from coalition.analysis.evaluate import Context, PlannerEvaluator
    from coalition.analysis.sampling import Method, sample_worlds
    from coalition.planner.greedy import is_feasible

    sc = load_scenario()
    ctx = Context(sc, "small", options=OPTS)
    ev = PlannerEvaluator(ctx)
    for w in sample_worlds(ctx.uncertainty, 3, Method.LHS, seed=5)[1:]:
        inp = ctx.inputs(w)
        rm = ev.model_of(inp)
        basis = rm.baseline_basis(10)
        assert basis is not None and basis is rm.baseline_basis(10)  # computed once
        warm = rm.solve(inp.active_from, inp.units, 10, spells=inp.spells, repaired=True)
        monkeypatch.setattr(reuse, "WARM_LP", False)
        cold = rm.solve(inp.active_from, inp.units, 10, spells=inp.spells, repaired=True)
        monkeypatch.setattr(reuse, "WARM_LP", True)
        same_problem(warm, cold)
        for got in (warm, cold):
            assert got.model is not None and got.values is not None
            assert is_feasible(got.model, got.values)


def _world_model(samples: int, index: int):  # type: ignore[no-untyped-def]
    """World ``index`` of ``samples`` LHS worlds (seed 5) of `small`: its context, inputs and
    the evaluator's reusable model."""
    from coalition.analysis.evaluate import Context, PlannerEvaluator
    from coalition.analysis.sampling import Method, sample_worlds

    ctx = Context(load_scenario(), "small", options=OPTS)
    inp = ctx.inputs(sample_worlds(ctx.uncertainty, samples, Method.LHS, seed=5)[index])
    return ctx, inp, PlannerEvaluator(ctx).model_of(inp)


def test_a_world_with_the_same_restricted_model_reuses_the_proven_plan():
    """Two worlds with the same units per pledge have the same restricted model: the second
    gets the first's proven plan (``cached``) on its own model's copy, with the same objective,
    bound and shortfall; a world with other units is solved."""
    from coalition.planner.greedy import is_feasible

    ctx, inp, rm = _world_model(2, 1)
    first = rm.solve(inp.active_from, inp.units, 10, spells=inp.spells, repaired=True)
    assert first.status == "optimal" and not first.cached
    # the same units, written out for every active pledge (another mapping, the same model)
    again_units = {p: inp.units.get(p, ctx.pledge_units[p]) for p in inp.active_from}
    again = rm.solve(inp.active_from, again_units, 10, spells=inp.spells, repaired=True)
    assert again.cached and again.solve_seconds == 0.0
    assert again.objective == first.objective and again.bound == first.bound and again.gap == first.gap
    assert np.array_equal(again.values, first.values) and np.array_equal(again.shortfall, first.shortfall)
    assert again.model is not first.model and np.array_equal(again.model.chi, first.model.chi)
    assert is_feasible(again.model, again.values)
    again.values[:] = -1.0  # the caller's copy: the kept plan is not changed
    assert rm.solve(inp.active_from, again_units, 10, spells=inp.spells, repaired=True).values.min() >= 0
    # one unit fewer somewhere: another model, solved afresh
    p = next(p for p, n in again_units.items() if n > 1)
    fewer = rm.solve(inp.active_from, {**again_units, p: again_units[p] - 1}, 10, spells=inp.spells, repaired=True)
    assert not fewer.cached
    # another time limit or start: solved afresh too
    assert not rm.solve(inp.active_from, again_units, 11, spells=inp.spells, repaired=True).cached


def test_a_time_limited_incumbent_with_slack_is_reported_as_its_assignments_define(monkeypatch):
    """A time-limited MIP may return an incumbent carrying more shortfall slack and hub
    presence than its assignments need. The analysis reports the plan the assignments define
    (engine.recompute), as `coalition plan` does: its objective is the recomputed plan's, below
    the padded incumbent's, and the gap is against that objective. The incumbent is the real
    solver's plan, padded here as such a MIP would leave it."""
    import dataclasses

    import coalition.planner.solver as solver_mod
    from coalition.planner.engine import recompute

    real = solver_mod.solve_highs
    padded: dict[str, float] = {}

    def padded_solve(model, *args, **kwargs):
        sol = real(model, *args, **kwargs)
        if sol.values is not None:
            v = sol.values.copy()
            ub, bb = model.var("Line-shortfall"), model.var("Hub-nation-present")
            v[ub.start : ub.stop] += 1.0  # slack on every line: still feasible (>= rows)
            if bb.size:
                v[bb.start : bb.stop] = 1.0  # presence everywhere: allowed, costs cohesion
            padded["objective"] = float(model.cost @ v)
            sol = dataclasses.replace(sol, values=v)
        return sol

    monkeypatch.setattr(solver_mod, "solve_highs", padded_solve)
    _ctx, inp, rm = _world_model(1, 0)
    got = rm.solve(inp.active_from, inp.units, 10, spells=inp.spells, repaired=False)
    assert got.model is not None and got.values is not None and got.objective is not None
    assert "objective" in padded  # the padded incumbent reached the analysis
    assert got.objective < padded["objective"] - 1e-6
    again = recompute(got.model, got.values)
    assert np.allclose(again, got.values)
    assert got.objective == pytest.approx(float(got.model.cost @ again))
    if got.bound is not None and got.gap is not None:
        assert got.bound <= got.objective * (1 + 1e-9)
        assert got.gap == pytest.approx((got.objective - got.bound) / max(abs(got.objective), 1e-9), abs=1e-6)
