"""The hedged first wave: VSS >= 0 and EVPI >= 0 on random tiny instances (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from coalition.analysis.evaluate import Context, nominal_world
from coalition.analysis.hedge import hedge, hedge_data, solve_two_stage, world_units
from coalition.analysis.sampling import Method, enumerate_worlds, sample_worlds
from coalition.planner.schemas import PlanOptions
from tests.analysis.factory import either_fills, random_uncertain

EXACT = PlanOptions(mip_rel_gap=0.0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), nations=st.integers(2, 4), lines=st.integers(1, 3),
       delay=st.sampled_from([0.0, 14.0, 60.0]))
def test_vss_and_evpi_are_never_negative(seed, nations, lines, delay):
    ctx = Context(random_uncertain(seed, nations, lines), "opt", options=EXACT)
    worlds = list(enumerate_worlds(ctx.uncertainty))
    h = hedge(ctx, worlds, nominal=nominal_world(), delay=delay, exact=True)
    tol = 1e-6 * max(1.0, abs(h["eev"]))
    assert h["vss"] >= -tol, h
    assert h["evpi"] >= -tol, h
    assert h["ws"] <= h["rp"]["objective"] + tol <= h["eev"] + 2 * tol
    assert h["price_of_hedging"]["price"] >= -tol


def test_hand_computable_hedge():
    # one line of 1 unit; AAA comes with p=0.5, BBB with p=0.8; committing costs only
    # transport, so the hedge commits both pledges; nothing is left to wait for
    ctx = Context(either_fills(0.5, 0.8), "opt", options=EXACT)
    worlds = list(enumerate_worlds(ctx.uncertainty))
    h = hedge(ctx, worlds, delay=30.0, exact=True)
    data = hedge_data(ctx)
    w = EXACT.weights
    # shortfall only when neither comes (p = 0.1): one essential unit short for one period
    short = 0.1 * w.shortfall * w.priority_essential * data.period_days
    assert h["ws"] == pytest.approx(short + 0.9 * w.distance * 100.0, rel=1e-9)
    assert h["evpi"] >= 0 and h["vss"] >= 0
    [line] = h["first_wave"]
    assert line["committed_units"] == 2  # both committed: the hedge


def test_fixed_first_stage_recourse_matches_extensive_form():
    ctx = Context(random_uncertain(5), "opt", options=EXACT)
    data = hedge_data(ctx)
    worlds = list(enumerate_worlds(ctx.uncertainty))
    units = [world_units(ctx, data, w) for w in worlds]
    wts = [w.weight for w in worlds]
    rp = solve_two_stage(data, units, wts, EXACT, delay=30.0)
    again = solve_two_stage(data, units, wts, EXACT, delay=30.0, fixed_z=rp.z)
    assert again.objective == pytest.approx(rp.objective, rel=1e-9, abs=1e-9)


def test_sampled_hedge_reports_out_of_sample_ci():
    ctx = Context(random_uncertain(2), "opt", options=EXACT)
    ws = sample_worlds(ctx.uncertainty, 20, Method.LHS, seed=1)
    oos = sample_worlds(ctx.uncertainty, 30, Method.MC, seed=99)
    h = hedge(ctx, ws, out_of_sample=oos)
    o = h["out_of_sample"]
    lo, hi = o["vss"]["ci95"]
    assert lo <= o["vss"]["mean"] <= hi and o["worlds"] == 30
