"""The model built once and modified per world solves the same problem as a fresh plan."""

from __future__ import annotations

import pytest

from coalition.analysis.reuse import ModelCache, ReusableModel
from coalition.planner.schemas import PlanOptions
from coalition.planner.service import activation_for_plan, plan_option, resolve_c_day
from coalition.scenario.schemas import Assumption
from coalition.scenario.service import load_scenario

OPTS = PlanOptions(time_limit=60)
WORLDS = [
    (),
    (Assumption(condition="us_backstop", value=True), Assumption(condition="parliament.DEU", value=True)),
    (Assumption(condition="parliament.GBR", value=True), Assumption(condition="clear_mandate", value=True)),
]


def _active(sc, ass):
    cday, eff = resolve_c_day(sc, ass, None)
    return activation_for_plan(sc, eff, cday.day, sc.horizon_days).active_from


def test_reused_model_matches_fresh_plans_in_any_order():
    sc = load_scenario()
    rm = ReusableModel(sc, "small", OPTS)
    fresh = [plan_option(sc, "small", assumptions=a, explain=False, options=OPTS)[0].plan.solve
             for a in WORLDS[:2]]
    # solve in an order that revisits a world: a stale solution would show as a mismatch
    for i in (0, 1, 0):
        got = rm.solve(_active(sc, WORLDS[i]), {}, 60)
        assert got.status == "optimal"
        want = fresh[i].objective
        assert got.objective == pytest.approx(want, rel=3e-4), i


def test_units_are_bounds_participation_matches_a_scenario_with_fewer_units():
    sc = load_scenario()
    active = _active(sc, WORLDS[0])
    assert "FRA-02" in active
    # FRA-02 deploys 1 of its 3 infantry battalions
    pledges = tuple(p.model_copy(update={"units": 1}) if p.id == "FRA-02" else p for p in sc.pledges)
    fewer = sc.model_copy(update={"pledges": pledges})
    want = plan_option(fewer, "small", assumptions=WORLDS[0], explain=False, options=OPTS)[0].plan.solve
    rm = ReusableModel(sc, "small", OPTS)
    got = rm.solve(active, {"FRA-02": 1}, 60)
    assert got.objective == pytest.approx(want.objective, rel=3e-4)
    full = rm.solve(active, {}, 60)
    assert full.objective < got.objective  # fewer units never help


def test_cache_builds_one_model_per_activation_profile():
    sc = load_scenario()
    cache = ModelCache(sc, "small", OPTS)
    a = cache.get(_active(sc, WORLDS[0]))
    b = cache.get(_active(sc, WORLDS[1]))
    assert a is b and cache.builds == 1  # only who is active differs: same columns
    late = dict(_active(sc, WORLDS[0]))
    late[next(iter(late))] = 30
    c = cache.get(late)
    assert c is not a and cache.builds == 2
    with pytest.raises(ValueError):
        a.solve(late, {}, 10)
