"""From a world to the planner's inputs and one outcome record."""

from __future__ import annotations

from coalition.analysis.evaluate import (
    Context,
    QuickEvaluator,
    all_hold_world,
    deployed_units,
    effective_uncertainty,
    nominal_world,
)
from coalition.analysis.sampling import Method, sample_worlds
from coalition.scenario.schemas import Assumption
from coalition.scenario.service import load_scenario


def test_deployed_units_round_half_up():
    assert [deployed_units(3, s) for s in (0.0, 0.16, 0.17, 0.5, 1.0)] == [0, 0, 1, 2, 3]
    assert deployed_units(1, 0.5) == 1 and deployed_units(1, 0.49) == 0


def test_user_assumption_removes_the_row_and_resolves_what_it_drives():
    u = load_scenario().uncertainty
    fixed = (Assumption(condition="us_backstop", value=False),)
    e = effective_uncertainty(u, fixed)
    assert e.condition("us_backstop") is None
    deu = e.condition("parliament.DEU")
    assert deu.driver is None and deu.probability == u.condition("parliament.DEU").probability_if_not


def test_nominal_world_keeps_nominal_values_all_hold_activates_more():
    sc = load_scenario()
    ctx = Context(sc, "small")
    nominal = ctx.inputs(nominal_world())
    everything = ctx.inputs(all_hold_world(ctx.uncertainty))
    assert set(nominal.active_from) < set(everything.active_from)
    assert "DEU-01" in everything.active_from and "DEU-01" not in nominal.active_from
    assert not any(a.condition == "us_backstop" for a in nominal.assumptions)
    # the ceasefire comes on the mode of its date distribution
    cease = [a for a in everything.assumptions if a.condition == "ceasefire"]
    assert cease and cease[0].on.isoformat() == "2026-07-01"


def test_withdrawn_nation_deploys_nothing_and_quick_fill_drops():
    sc = load_scenario()
    ctx = Context(sc, "small")
    world = all_hold_world(ctx.uncertainty)
    inp = ctx.inputs(world, frozenset({"FRA", "GBR"}))
    assert all(u == 0 for p, u in inp.units.items() if p.startswith(("FRA", "GBR")))
    ev = QuickEvaluator(ctx)
    full = ev.evaluate(world)
    without = ev.evaluate(world, frozenset({"FRA", "GBR"}))
    assert without.essential_coverage_pct < full.essential_coverage_pct


def test_embedded_set_samples_and_evaluates_quickly():
    sc = load_scenario()
    ctx = Context(sc, "small")
    ev = QuickEvaluator(ctx)
    worlds = sample_worlds(ctx.uncertainty, 8, Method.SOBOL, seed=4)
    outs = [ev.evaluate(w) for w in worlds]
    assert all(0 <= o.essential_coverage_pct <= 100 for o in outs)
    assert len({o.essential_coverage_pct for o in outs}) > 1  # the politics matters
