"""Capacity rows for the chain bound (planner.caprows): the same rows as the full model's."""

from __future__ import annotations

import time

import numpy as np
import pytest

from coalition.planner.caprows import (
    CORRIDOR_PERSONNEL,
    HUB,
    broken,
    cap_rows,
    dense_price,
    dense_slack,
    entries,
    n_dense,
    price,
)
from coalition.planner.colgen import relaxation
from coalition.planner.lagrange import ascent, chain_master, dual_problem, evaluate
from coalition.planner.model import build_model
from planner.test_colgen import KEPT, OPTS, _lp, _tables

CAPACITY = ("Hub-personnel-capacity", "Corridor-personnel-capacity", "Corridor-tonnage-capacity")


def _setup(seed: int):  # type: ignore[no-untyped-def]
    tb = _tables(seed)
    rel = relaxation(tb, OPTS)
    dp = dual_problem(rel)
    return tb, rel, dp, cap_rows(rel, tb, dp.order)


def test_the_dense_rows_are_the_models_capacity_rows():
    """For a random plan (units on random columns), the slack of every dense row on the days the
    full model has a row equals capacity minus the model's own row activity (build_model over the
    same columns)."""
    tb, rel, dp, cr = _setup(1)
    m = build_model(tb, OPTS)
    rng = np.random.default_rng(3)
    pos = rng.choice(dp.order.size, size=min(25, dp.order.size), replace=False)
    amount = rng.integers(1, 3, pos.size).astype(float)
    slack = dense_slack(cr, pos, amount)
    x = np.zeros(m.n_cols)
    x[m.var("Assign-count").start + dp.order[pos]] = amount
    assert m.A is not None and m.hi is not None
    act = m.A @ x
    H, nh, nc = cr.horizon, cr.hub_cap.size, cr.corr_personnel.size
    offsets = {"Hub-personnel-capacity": 0, "Corridor-personnel-capacity": nh * H}
    offsets["Corridor-tonnage-capacity"] = (nh + nc) * H
    checked = 0
    for fam, off in offsets.items():
        b = m.con(fam)
        keys = np.asarray(m.row_key[list(m.con_blocks).index(fam)])
        for i in range(b.size):
            g, d = int(keys[i][0]), int(keys[i][1])
            assert slack[off + g * H + d] == pytest.approx(act[b.start + i] - m.hi[b.start + i])
            checked += 1
    assert checked


def test_prices_match_the_rows_entries():
    """A column's added reduced cost is the sum of rho over the rows it has an entry in (entries),
    for the rows chosen; dense pricing with the same rho on those rows agrees."""
    tb, rel, dp, cr = _setup(2)
    rng = np.random.default_rng(0)
    pos = np.arange(dp.order.size)
    new = broken(cr, pos, np.full(pos.size, 5.0), 500)
    assert new, "five units on every column break some capacity row"
    cr.keys += [k for k, _ in new]
    cr.caps += [c for _, c in new]
    rho = rng.uniform(0, 3, cr.n_rows)
    add, const = price(cr, rho)
    r, j, v = entries(cr, pos, np.arange(cr.n_rows))
    want = np.zeros(pos.size)
    np.add.at(want, j, v * rho[r])
    assert add == pytest.approx(want)
    assert const == pytest.approx(-float(rho @ np.asarray(cr.caps)))
    flat = np.zeros(n_dense(cr))
    H, nh, nc = cr.horizon, cr.hub_cap.size, cr.corr_personnel.size
    for key, val in zip(cr.keys, rho, strict=True):
        kg, day = divmod(key, 10**5)
        kind, group = divmod(kg, cr.n_groups)
        off = 0 if kind == HUB else (nh * H if kind == CORRIDOR_PERSONNEL else (nh + nc) * H)
        flat[off + group * H + day] += val
    add_d, _ = dense_price(cr, flat)
    assert add_d == pytest.approx(add)


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_with_capacity_rows_the_bound_reaches_the_lp_with_them(seed):
    """The chain master with row generation converges to the LP of the model with the cover,
    cycle, budget AND capacity rows (build_model's, solved directly); the ascent relaxing every
    capacity row never passes the full model's LP (every row), at any point."""
    tb, rel, dp, cr = _setup(seed)
    m = build_model(tb, OPTS)
    kept = np.zeros(m.n_rows, dtype=bool)
    for fam in KEPT + CAPACITY:
        b = m.con(fam)
        kept[b.start : b.stop] = True
    res = chain_master(dp, time.perf_counter() + 60, cap=cr)
    assert res.converged and res.bound is not None
    assert res.bound == pytest.approx(_lp(m, kept), rel=1e-7, abs=1e-3)
    full_lp = _lp(m, np.ones(m.n_rows, dtype=bool))
    tol = 1e-6 * abs(full_lp) + 1e-3
    start = chain_master(dp, time.perf_counter() + 60, max_rounds=2)
    assert start.duals is not None
    seen: list[float] = []
    asc = ascent(
        dp,
        *start.duals,
        time.perf_counter() + 30,
        target=1.05 * full_lp,
        cap=cap_rows(rel, tb, dp.order),
        max_iterations=200,
        trace=lambda it, v, lam: seen.append(v),
    )
    assert max(seen) <= full_lp + tol and asc.bound <= full_lp + tol
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0, 50, n_dense(cr)) * (rng.uniform(size=n_dense(cr)) < 0.05)
    assert evaluate(dp, *start.duals, dense=(cr, rho)).value <= full_lp + tol
