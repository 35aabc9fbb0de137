"""The greedy baseline (coalition.planner.greedy): the rows-per-unit cache a model's copies share
(Model.matrix_cache) never changes a plan, and columns at a zero bound are never used."""

from __future__ import annotations

import copy

import numpy as np

from coalition.planner.greedy import greedy_values, is_feasible, repair
from coalition.planner.model import build_model
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables
from coalition.scenario.service import load_scenario


def _model():  # type: ignore[no-untyped-def]
    sc = load_scenario()
    tb = build_tables(sc, "small", active_from={p.id: 0 for p in sc.pledges}, options=PlanOptions())
    return build_model(tb, PlanOptions())


def _copies(m, n: int, seed: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    """Shallow copies of ``m`` with random Assign-count bounds (some columns at 0), as the
    scenario analysis makes per world (they share the matrix and so the cache)."""
    rng = np.random.default_rng(seed)
    xb = m.var("Assign-count")
    out = []
    for _ in range(n):
        r = copy.copy(m)
        chi = m.chi.copy()
        x = chi[xb.start : xb.stop]
        chi[xb.start : xb.stop] = np.where(rng.random(xb.size) < 0.4, 0.0, np.minimum(x, rng.integers(0, 4, xb.size)))
        r.chi = chi
        out.append(r)
    return out


def _uncached(r):  # type: ignore[no-untyped-def]
    """The same model with no cache to share (every greedy run computes its rows afresh)."""
    u = copy.copy(r)
    u.matrix_cache = None
    return u


def test_shared_cache_gives_the_plans_of_an_empty_one() -> None:
    m = _model()
    assert m.matrix_cache is not None and m.matrix_cache.A is m.A
    copies = _copies(m, 3, seed=4)
    assert all(r.matrix_cache is m.matrix_cache for r in copies)  # one cache for all the copies
    xb = m.var("Assign-count")
    rng = np.random.default_rng(9)
    pref = rng.random(xb.size)
    # twice in turn: the second round runs on a cache the other copies filled
    for _ in range(2):
        for r in copies:
            got = greedy_values(r, preference=pref)
            want = greedy_values(_uncached(r), preference=pref)
            assert np.array_equal(got, want)
            assert is_feasible(r, got)
            x = got[xb.start : xb.stop]
            assert (x[r.chi[xb.start : xb.stop] == 0] == 0).all()  # a zero bound is never used
            # the repair of another copy's plan (its units cut to this one's bounds) likewise
            v = np.zeros_like(got)
            v[xb.start : xb.stop] = np.minimum(pref * 3 // 1, r.chi[xb.start : xb.stop])
            assert np.array_equal(repair(r, v), repair(_uncached(r), v))
    assert m.matrix_cache is not None and len(m.matrix_cache.unit_rows) > 0 and m.matrix_cache.x_cols is not None


def test_a_model_with_another_matrix_does_not_use_the_cache() -> None:
    """A copy whose matrix was replaced must not read rows cached for the old matrix."""
    m = _model()
    greedy_values(m)
    assert m.matrix_cache is not None and m.matrix_cache.unit_rows
    r = copy.copy(m)
    assert m.A is not None
    A = m.A.copy()
    A.data = A.data * 2.0  # every unit now takes twice the capacity
    r.A = A
    got = greedy_values(r)
    assert np.array_equal(got, greedy_values(_uncached(r)))
    assert is_feasible(r, got)
