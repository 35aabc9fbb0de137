"""A restricted master with EVERY row of the full model: the LP bound and the plan neighbourhood
of large models (docs/planner/solver.md, *Restricted master*).

On a large model (M: ~64k Assign-count columns, 7k capacity rows) the LP with every capacity row
is far slower than the LP without them (dual simplex from scratch: ~450 s against ~15 s under
load), and re-solving the full LP after adding the broken rows is slow too (no presolve on a
warm start). But the LP *without* the capacity rows is within 1% of the LP with them, and its
solution leaves most columns at 0. So this module solves the LP with every row (capacity rows
included; the cohesion links left out, which only relaxes it) over a *subset* K of the
Assign-count columns, each round a small presolved LP, and prices every column of the full set
against its row duals ``y``: ``rc_j = c_j - A_j^T y``. Columns with a negative reduced cost join
K, and the master is solved again.

**The bound.** By Lagrangian duality (every row relaxed with the master's duals, each column in
its box ``0 <= x_j <= U_p``, and per pledge ``sum_j x_j <= max_units[p]`` - a unit starts at most
one tour per period and departures are more than its recovery apart, and at most its rotation
budget: every plan of the full model obeys it), ``z_K - sum_{j in K} rc_j x_j + min over the
boxes of sum_j rc_j x_j`` is a lower bound of the full model's LP, hence of the full model
(Farley's bound, as in :mod:`coalition.planner.colgen`). When pricing finds no negative reduced
cost the two agree and ``z_K`` is the full model's LP value (without the cohesion links):
``full-lp``. A bound is only taken from a master solved to optimality. Every other column of
the master (shortfall, pledge starts, stocks, cohesion) is always in it.

**The neighbourhood.** K at the end (the master's support and the columns pricing found)
restricted MIP: a MIP over K's columns only, with every row of the full model - its plans are
plans of the full model, its bound is never used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from coalition.planner.flowform import FlowForm
from coalition.planner.matrix import Model, max_tours_per_unit
from coalition.solvers.highs import HighsModel, MatrixProblem, Outcome, RunResult, SolverOptions

RC_TOL = 1e-6  # objective units (a unit-day of shortfall costs >= 1000)
# columns added per pricing round: for every (line, start period) its PER_GROUP most negative
# reduced costs, then the most negative others, at most ROUND_COLUMNS in all
ROUND_COLUMNS = 6000
PER_GROUP = 2
# After a master with at most CYCLE_BOUND_MAX_NEGATIVE columns still priced negative, also the
# Lagrangian bound that keeps each pledge's busy-unit rows (cycle_bound) besides Farley's
# (lagrangian_bound); the higher is kept. Measured on M seed 13 (masters from a greedy start,
# quiet machine): LP bound without capacity rows 103.15 M; the cycle bound 59.2 / 99.5 / 104.0 /
# 104.9 / 105.7 M after masters with 6,659 / 1,104 / 390 / 216 / 85 columns priced negative,
# in 0.7-1.2 CPU s each; Farley's stayed below 103.15 M. With more negative columns it is far
# below the LP bound and not worth its inner LP.
CYCLE_BOUND = True
CYCLE_BOUND_MAX_NEGATIVE = 3000
# ...and only with at least this long left before the master's deadline: its inner LP, given
# 0.32 s, returned after 1.81 s (M seed 13, load 6: HiGHS's LP presolve between two time checks).
CYCLE_BOUND_MIN_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class MasterOptions:
    """How :func:`solve_master` runs: HiGHS threads and seed, at most ``max_rounds`` masters
    (None: until pricing finds nothing or the clock stops it), ``round_columns`` columns added
    per pricing round, ``trace`` told what each master did."""

    threads: int = 1
    seed: int = 0
    max_rounds: int | None = None
    round_columns: int = ROUND_COLUMNS
    trace: Callable[[str], None] | None = None  # told one line per master solved


DEFAULT_MASTER = MasterOptions()


@dataclass(slots=True)
class MasterResult:
    bound: float | None  # a valid lower bound of the full model (None: no master solved)
    converged: bool  # pricing found no negative reduced cost: the bound is the LP value
    objective: float | None  # the last master LP's value (an upper bound of the full LP)
    keep: np.ndarray  # bool per Assign-count column: in K at the end
    core: np.ndarray | None  # the last master's solution in model columns (x outside K = 0)
    rc: np.ndarray | None  # reduced costs of every Assign-count column at the last duals
    rounds: int
    seconds: float
    message: str


@dataclass(slots=True)
class Restricted:
    """The full model's solver form restricted to some Assign-count columns (``cols``: solver
    columns kept, in order) and, for the LP, without some rows (``rows``: rows kept)."""

    problem: MatrixProblem
    cols: np.ndarray
    rows: np.ndarray


def restricted(
    ff: FlowForm, m: Model, keep: np.ndarray, rows: np.ndarray, integer: bool, A_csc: sp.csc_matrix | None = None
) -> Restricted:
    """The sub-problem on the kept Assign-count columns (``keep``, bool per column of the
    block) and every other column, rows ``rows``."""
    xb = m.var("Assign-count")
    n = ff.clo.size
    col_mask = np.ones(n, dtype=bool)
    col_mask[xb.start : xb.stop] = keep
    cols = np.flatnonzero(col_mask)
    A = (ff.A if A_csc is None else A_csc)[:, cols]
    A = A.tocsr()[rows].tocsc()
    prob = MatrixProblem(
        cost=ff.cost[cols],
        col_lo=ff.clo[cols],
        col_hi=ff.chi[cols],
        A=A,
        row_lo=ff.lo[rows],
        row_hi=ff.hi[rows],
        integer=ff.integer[cols] if integer else None,
    )
    return Restricted(prob, cols, rows)


#: families whose rows are "sum of nonnegative terms <= capacity" over Assign-count columns
CAPACITY_FAMILIES = (
    "Hub-personnel-capacity",
    "Corridor-personnel-capacity",
    "Corridor-tonnage-capacity",
    "Pledge-unit-cycle",
)


def implied_upper_bounds(m: Model) -> np.ndarray:
    """Upper bounds of every model column, Assign-count ones tightened by the capacity rows:
    in a row ``sum_k a_k x_k <= cap`` with every ``a_k, x_k >= 0``, an integer ``x_j`` is at most
    ``floor(cap / a_j)`` (a unit of 600 cannot pass a 500-a-day corridor even partly). Every
    plan of the full model keeps these bounds, so an LP with them is still a relaxation of the
    full model (its value a bound of it); on M seed 11 the LP without capacity rows rises
    76.25 M -> 76.39 M with them, 40% of the x upper bounds shrink."""
    assert m.A is not None and m.lo is not None and m.hi is not None and m.chi is not None
    xb = m.var("Assign-count")
    ub = m.chi.copy()
    if not xb.size:
        return ub
    A = m.A.tocsc()[:, xb.start : xb.stop]
    best = np.full(xb.size, np.inf)
    for fam in CAPACITY_FAMILIES:
        b = m.con(fam)
        if not b.size:
            continue
        sub = A[b.start : b.stop].tocoo()
        pos = sub.data > 0
        if not pos.all() or (m.lo[b.start : b.stop] > 0).any():
            continue  # not of the form above: no tightening from it
        cap = m.hi[b.start + sub.row]
        lim = np.floor(cap / sub.data + 1e-9)
        np.minimum.at(best, sub.col, lim)
    ub[xb.start : xb.stop] = np.maximum(0.0, np.minimum(ub[xb.start : xb.stop], best))
    return ub


def max_units(m: Model) -> np.ndarray:
    """Per pledge: the most tours its units can start in the horizon (sum of its x)."""
    tb = m.tables
    budget = np.where(np.isfinite(tb.pledge_rotations), tb.pledge_rotations * tb.pledge_units, np.inf)
    most: NDArray[np.float64] = np.minimum(tb.pledge_units * max_tours_per_unit(tb), budget).astype(np.float64)
    return most


def lagrangian_bound(
    z: float, rc: np.ndarray, x_k: np.ndarray, keep: np.ndarray, pledge: np.ndarray, ub: np.ndarray, most: np.ndarray
) -> float:
    """``z - sum_{j in K} rc_j x_j + min { sum_j rc_j x_j : 0 <= x_j <= ub_j, sum over a
    pledge's columns <= most[p] }`` (the minimum by a greedy per pledge: most negative first)."""
    base = z - float(rc[keep] @ x_k[keep])
    neg = np.flatnonzero(rc < 0)
    if not neg.size:
        return base
    p = pledge[neg]
    order = np.lexsort((rc[neg], p))
    neg, p = neg[order], p[order]
    u = ub[neg]
    cum = np.cumsum(u)
    first = np.ones(neg.size, dtype=bool)
    first[1:] = p[1:] != p[:-1]
    start = np.maximum.accumulate(np.where(first, cum - u, 0.0))
    take = np.clip(most[p] - (cum - u - start), 0.0, u)
    return base + float(rc[neg] @ take)


# A column whose box is unbounded above may price below zero by this much (relative to its cost,
# at least 1) and still count as 0 in the cycle bound: the LP's dual tolerance, not a direction.
DUAL_TOL = 1e-7


def _signed_duals(ff: FlowForm, y: np.ndarray) -> np.ndarray:
    """``y`` with each row's multiplier given the sign its row allows (a row without a lower
    side, ``-inf <= a x <= hi``, takes y <= 0; one without an upper side y >= 0): with those
    signs the Lagrangian below is a lower bound for any ``y``."""
    out = np.where(np.isfinite(ff.lo), y, np.minimum(y, 0.0))
    out = np.where(np.isfinite(ff.hi), out, np.maximum(out, 0.0))
    signed: NDArray[np.float64] = out
    return signed


def _box_minimum(d: np.ndarray, lo: np.ndarray, hi: np.ndarray, cap: np.ndarray) -> float | None:
    """``sum_c min {d_c v_c : lo_c <= v_c <= hi_c}``; a column unbounded above counts ``cap_c``
    as its bound (a valid bound of it in every plan, inf when none is known); None when the
    minimum is -inf beyond the dual tolerance."""
    hi_eff = np.where(np.isfinite(hi), hi, cap)
    neg = d < 0
    unbounded = neg & ~np.isfinite(hi_eff)
    if np.any(d[unbounded] < -DUAL_TOL):
        return None
    if np.any((d > 0) & ~np.isfinite(lo)):
        return None
    low = np.where(d > 0, d * np.where(np.isfinite(lo), lo, 0.0), 0.0)
    high = np.where(neg & ~unbounded, d * np.where(np.isfinite(hi_eff), hi_eff, 0.0), 0.0)
    return float(low.sum() + high.sum())


def cycle_bound(
    m: Model, ff: FlowForm, y: np.ndarray, rows: np.ndarray, *, deadline: float | None = None, threads: int = 1
) -> float | None:
    """A Lagrangian bound of the full model at the row multipliers ``y`` of the solver form
    ``ff`` (e.g. a master's duals; any ``y`` is valid): every row in ``rows`` relaxed except the
    pledges' busy-unit rows (``Pledge-busy`` flow and stock rows), which are kept exactly, in
    the model's own form (``Pledge-unit-cycle``: at most ``U_p`` units of a pledge busy on any of
    its departure days) with each ``Assign-count`` column in its box ``[0, ff.chi]``; rows
    outside ``rows`` (the cohesion links) get 0. ``L(y) = sum_r min_s y_r s_r (s_r in [lo_r,
    hi_r]) + sum_c min_box (c_c - A_c^T y) v_c + min {rc x : cycle rows, box}``, the last an LP
    over the columns of negative reduced cost. None when that LP is not solved by
    ``deadline`` or a box minimum is unbounded. See docs/planner/solver.md, *cycle bound*."""
    xb = m.var("Assign-count")
    busy = ff.stock_of.get("Pledge-busy")
    cyc = m.con("Pledge-unit-cycle")
    if busy is None or not xb.size or not cyc.size:
        return None
    bcols = busy[1]
    A = ff.A.tocsc()
    relaxed = np.zeros(ff.lo.size, dtype=bool)
    relaxed[rows] = True
    relaxed[np.unique(A[:, bcols.start : bcols.stop].indices)] = False
    yy = _signed_duals(ff, np.where(relaxed, y, 0.0))
    side = np.where(yy > 0, ff.lo, np.where(yy < 0, ff.hi, 0.0))
    row_term = float(np.sum(np.where(yy != 0, yy * np.where(np.isfinite(side), side, 0.0), 0.0)))
    d = ff.cost - A.T @ yy
    other = np.ones(ff.clo.size, dtype=bool)
    other[xb.start : xb.stop] = False
    other[bcols.start : bcols.stop] = False
    # a stock counts units present, at most every pledged unit in any plan
    cap = np.full(ff.clo.size, np.inf)
    for name in ff.stock_of:
        blk = ff.stock_of[name][1]
        cap[blk.start : blk.stop] = float(m.tables.pledge_units.sum())
    box = _box_minimum(d[other], ff.clo[other], ff.chi[other], cap[other])
    if box is None:
        return None
    rc = d[xb.start : xb.stop]
    ub = ff.chi[xb.start : xb.stop]
    neg = np.flatnonzero((rc < 0) & (ub > 0))
    if not neg.size:
        return row_term + box
    assert m.A is not None and m.hi is not None
    Ac = m.A.tocsr()[cyc.start : cyc.stop][:, xb.start + neg].tocsc()
    hi = m.hi[cyc.start : cyc.stop]
    lp = HighsModel(
        MatrixProblem(rc[neg], np.zeros(neg.size), ub[neg], Ac, np.full(hi.size, -np.inf), hi),
        SolverOptions(threads=threads, method="simplex"),
        deadline=deadline,
    ).run()
    if lp.outcome is not Outcome.OPTIMAL or lp.objective is None:
        return None
    return row_term + box + float(lp.objective)


def _pick(rc: np.ndarray, group: np.ndarray, limit: int) -> np.ndarray:
    """Columns with rc < -RC_TOL to add: per group its PER_GROUP most negative, then the most
    negative others, at most ``limit``."""
    cand = np.flatnonzero(rc < -RC_TOL)
    if cand.size <= limit:
        return cand
    g = group[cand]
    order = np.lexsort((rc[cand], g))
    cand, g = cand[order], g[order]
    first = np.ones(cand.size, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    pos = np.arange(cand.size)
    rank = pos - np.maximum.accumulate(np.where(first, pos, 0))
    pick = cand[rank < PER_GROUP]
    if pick.size >= limit:
        return pick[np.argsort(rc[pick], kind="stable")[:limit]]
    rest = cand[rank >= PER_GROUP]
    rest = rest[np.argsort(rc[rest], kind="stable")[: limit - pick.size]]
    return np.concatenate([pick, rest])


def solve_master(
    m: Model,
    ff: FlowForm,
    keep: np.ndarray,
    *,
    deadline: float,
    options: MasterOptions = DEFAULT_MASTER,
    should_stop: Callable[[], bool] | None = None,
    lp_rows: np.ndarray | None = None,
) -> MasterResult:
    """Column generation over the Assign-count columns, every row of ``ff`` in the master
    except those left out of ``lp_rows`` (their rows must only relax the model: the cohesion
    links). Starts from ``keep`` (bool per Assign-count column); runs until pricing finds no
    negative reduced cost, ``deadline`` passes (a master stopped by the clock is not used) or
    ``options.max_rounds`` masters were solved (the columns the last pricing found are then in
    ``keep`` all the same: the neighbourhood of the restricted MIP)."""
    t0 = time.perf_counter()
    xb = m.var("Assign-count")
    tb = m.tables
    keep = keep.copy()
    rows = np.arange(ff.lo.size) if lp_rows is None else np.asarray(lp_rows, dtype=np.int64)
    A_csc = ff.A.tocsc()
    A_x_t = A_csc[:, xb.start : xb.stop].T.tocsr()  # for pricing: A_x^T y
    c_x = ff.cost[xb.start : xb.stop]
    pledge = tb.arc_pledge[m.x_arc]
    ub = ff.chi[xb.start : xb.stop]
    most = max_units(m)
    group = tb.arc_line[m.x_arc].astype(np.int64) * (tb.n_periods + 1) + m.x_start
    best: float | None = None
    converged = False
    z = core = rc = None
    rounds = 0
    msg = "no master solved"
    while True:
        if time.perf_counter() >= deadline or (should_stop is not None and should_stop()):
            msg = f"stopped by the time limit after {rounds} master(s)"
            break
        sub = restricted(ff, m, keep, rows, integer=False, A_csc=A_csc)
        hm = HighsModel(
            sub.problem,
            SolverOptions(threads=options.threads, seed=options.seed, method="simplex"),
            should_stop=should_stop,
            deadline=deadline,
        )
        r: RunResult = hm.run()
        rounds += 1
        if r.outcome is not Outcome.OPTIMAL or r.values is None or r.row_duals is None:
            msg = f"master {rounds} stopped ({r.outcome.value})"
            break
        z = float(r.objective or 0.0)
        y = np.zeros(ff.lo.size)
        y[rows] = r.row_duals
        rc = c_x - A_x_t @ y
        full = np.zeros(ff.clo.size)
        full[sub.cols] = r.values
        core = full[: m.n_cols]
        x_k = full[xb.start : xb.stop]
        lagr = lagrangian_bound(z, rc, x_k, keep, pledge, ub, most)
        out = np.where(keep, 0.0, rc)
        n_neg = int((out < -RC_TOL).sum())
        if (
            CYCLE_BOUND
            and 0 < n_neg <= CYCLE_BOUND_MAX_NEGATIVE
            and deadline - time.perf_counter() >= CYCLE_BOUND_MIN_SECONDS
        ):
            cyc = cycle_bound(m, ff, y, rows, deadline=deadline, threads=options.threads)
            lagr = lagr if cyc is None else max(lagr, cyc)
        best = lagr if best is None else max(best, lagr)
        if options.trace is not None:
            options.trace(
                f"master {rounds}: {int(keep.sum())} columns, z {z:,.0f}, Lagrangian "
                f"{lagr:,.0f}, {n_neg} negative, {time.perf_counter() - t0:.1f} s"
            )
        if n_neg == 0:
            converged = True
            best = max(best, z)
            msg = f"pricing: no negative reduced cost after {rounds} master(s)"
            break
        keep[_pick(out, group, options.round_columns)] = True
        if options.max_rounds is not None and rounds >= options.max_rounds:
            msg = f"stopped after {rounds} master(s), {n_neg} columns still priced negative"
            break
    return MasterResult(
        bound=best,
        converged=converged,
        objective=z,
        keep=keep,
        core=core,
        rc=rc,
        rounds=rounds,
        seconds=time.perf_counter() - t0,
        message=msg,
    )
