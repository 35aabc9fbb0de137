"""Experiment design: drivers correlate, inverse CDFs stay in range, designs are deterministic."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from coalition.analysis.sampling import (
    Method,
    date_at,
    dimensions,
    enumerate_worlds,
    sample_worlds,
    share_at,
)
from coalition.scenario.uncertainty import DateDistribution, Participation, Uncertainty
from coalition.errors import InputError

DRIVEN = Uncertainty.model_validate({
    "conditions": [
        {"condition": "us_backstop", "probability": 0.4},
        {"condition": "parliament.DEU", "probability": 0.9, "driver": "us_backstop", "probability_if_not": 0.1},
        {"condition": "parliament.NLD", "probability": 0.8, "driver": "us_backstop", "probability_if_not": 0.2},
    ]})


def test_exact_joint_probabilities_of_a_driver():
    worlds = list(enumerate_worlds(DRIVEN))
    assert sum(w.weight for w in worlds) == pytest.approx(1.0)
    p_deu = sum(w.weight for w in worlds if w.holds_map()["parliament.DEU"])
    assert p_deu == pytest.approx(0.4 * 0.9 + 0.6 * 0.1)
    both = sum(w.weight for w in worlds if w.holds_map()["parliament.DEU"] and w.holds_map()["parliament.NLD"])
    assert both == pytest.approx(0.4 * 0.9 * 0.8 + 0.6 * 0.1 * 0.2)
    assert both > p_deu * sum(w.weight for w in worlds if w.holds_map()["parliament.NLD"])  # correlated


@pytest.mark.parametrize("method", list(Method))
def test_sampled_driver_matches_exact(method):
    ws = sample_worlds(DRIVEN, 4000, method, seed=11)
    deu = np.mean([w.holds_map()["parliament.DEU"] for w in ws])
    p = 0.4 * 0.9 + 0.6 * 0.1
    assert abs(deu - p) < 4 * np.sqrt(p * (1 - p) / 4000)


def test_lhs_marginal_is_stratified():
    u = Uncertainty.model_validate({"conditions": [{"condition": "a", "probability": 0.3}]})
    ws = sample_worlds(u, 100, Method.LHS, seed=5)
    assert sum(w.holds_map()["a"] for w in ws) == 30  # exactly one point per stratum


def test_same_seed_same_worlds():
    a = sample_worlds(DRIVEN, 50, Method.SOBOL, seed=2)
    b = sample_worlds(DRIVEN, 50, Method.SOBOL, seed=2)
    assert a == b and a != sample_worlds(DRIVEN, 50, Method.SOBOL, seed=3)


@settings(max_examples=60, deadline=None)
@given(q=st.floats(0, 1, exclude_max=True), lo=st.integers(0, 300), span=st.integers(1, 400),
       m=st.floats(0, 1))
def test_triangular_date_in_range(q, lo, span, m):
    e = date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + lo)
    last = e.fromordinal(e.toordinal() + span)
    mode = e.fromordinal(e.toordinal() + int(m * span))
    d = DateDistribution(distribution="triangular", earliest=e, mode=mode, latest=last)
    assert e <= date_at(d, q) <= last


@settings(max_examples=60, deadline=None)
@given(q=st.floats(0, 1, exclude_max=True), lo=st.floats(0, 1), hi=st.floats(0, 1), m=st.floats(0, 1))
def test_triangular_share_in_range(q, lo, hi, m):
    lo, hi = min(lo, hi), max(lo, hi)
    mode = lo + m * (hi - lo)
    p = Participation(nation="AAA", distribution="triangular", low=lo, mode=mode, high=hi)
    assert lo - 1e-12 <= share_at(p, q) <= hi + 1e-12


def test_triangular_median_matches_scipy():
    from scipy.stats import triang

    d = DateDistribution(distribution="triangular", earliest=date(2026, 1, 1), mode=date(2026, 3, 2),
                         latest=date(2026, 12, 27))
    span = (d.latest - d.earliest).days
    c = (d.mode - d.earliest).days / span
    for q in (0.1, 0.5, 0.9):
        want = triang.ppf(q, c, loc=0, scale=span)
        assert abs((date_at(d, q) - d.earliest).days - want) <= 1


def test_continuous_is_not_enumerable():
    u = Uncertainty.model_validate({"participation": [
        {"nation": "AAA", "distribution": "uniform", "low": 0.2, "high": 0.9}]})
    assert dimensions(u) == [("share", "AAA")]
    with pytest.raises(InputError, match="not enumerable"):
        list(enumerate_worlds(u))


def test_too_many_outcomes_refused():
    u = Uncertainty.model_validate({"conditions": [{"condition": f"c{i}", "probability": 0.5} for i in range(13)]})
    with pytest.raises(InputError, match="too many"):
        list(enumerate_worlds(u))
