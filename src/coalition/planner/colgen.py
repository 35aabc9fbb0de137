"""Column generation: a valid LP bound of models too large to build, and the columns to plan on.

The full model of the generator's L instance has about 1.8 million Assign-count columns; its
matrix does not fit the memory and time budget. Its columns themselves are cheap (a dozen
integers each, :func:`coalition.planner.model._start_columns`), so this module keeps them all
and solves, over a *restricted master* of some of them, the LP of a relaxation of the full
model:

- ``Line-cover`` (soft through ``Line-shortfall``), ``Pledge-unit-cycle`` and
  ``Pledge-rotation-budget``, exactly as in the full model, with every row of the full column
  set (the cycle rows on every departure day any full column has);
- every other family is left out: the capacity rows (hub, corridor), the cohesion links, the
  enablers-first rows and the sustainment blocks (``Medical-*`` restrict the assignments;
  ``Resupply-*`` carry their own unmet-tonnage variables). They only restrict the full model
  and their own variables cost >= 0 and are feasible at 0 once their rows are gone, so leaving
  them out relaxes it: any lower bound of this LP is a lower bound of the full model.

Rows are written in flow form (stocks of units present at a line, busy units of a pledge), so
a column has at most five entries and its reduced cost needs two look-ups per family.

**The bound.** After each master solve, every column of the full set is priced against the
master's row duals ``y``: ``rc_j = c_j - A_j^T y``. By Lagrangian duality (relax every row with
the master's duals; minimise over the box ``0 <= x_j <= U_p``), ``z_master + sum over columns not
in the master of min(0, rc_j) * U_p`` is a lower bound of the relaxation's LP (Farley's bound,
the Lagrangian bound of column generation). When pricing finds no negative reduced cost, the
two agree and the master's LP value *is* the LP bound (``bound_provenance = full-lp``). The
best bound over the rounds is kept; a bound is only ever taken from a master solved to
optimality (its duals are then dual-feasible for its own columns).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coalition.planner.model import DAY_KEY, _start_columns, max_tours_per_unit
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import PlanningTables
from coalition.solvers.highs import HighsModel, MatrixProblem, Outcome, SolverOptions

# Columns added per pricing round: the most negative reduced costs, at most this many.
ROUND_COLUMNS = 40_000
# A reduced cost below -RC_TOL (objective units; one unit-day of shortfall costs >= 1000) counts.
RC_TOL = 1e-6
# master LPs from this round on use the primal simplex (HiGHS simplex_strategy 4)
PRIMAL_FROM_ROUND = 10**9  # measured slower on L (round 3: 124 s against 10 s dual), so not used
# progress of the rounds (tests and benchmarks may set a function here)
TRACE = None


@dataclass(slots=True)
class Relaxation:
    """The full column set and the rows of the relaxation, in flow form."""

    cols: dict[str, np.ndarray]
    cost: np.ndarray  # per column
    ub: np.ndarray  # per column: units of its pledge
    # rows: [cover flow (n_ct) | cover (n_ct) | cycle flow (n_ev) | budget (n_b)]
    # columns of the master: [u (n_ct) | L stock (n_ct) | B stock (n_ev) | x ...]
    n_ct: int
    n_ev: int
    n_b: int
    enter_ct: np.ndarray  # per column: cover-flow row it enters
    leave_ct: np.ndarray  # per column: cover-flow row it leaves (-1: none)
    enter_ev: np.ndarray
    leave_ev: np.ndarray  # -1: none
    budget_row: np.ndarray  # per column: budget row (-1: none)
    pledge: np.ndarray  # per column
    max_units: np.ndarray  # per pledge: most tours its units can start (sum of its x)
    units: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per pledge: its units
    horizon: int = 0  # days
    base: MatrixProblem | None = field(repr=False, default=None)  # set by build_relaxation

    @property
    def n_pledges(self) -> int:
        return int(self.units.size)

    @property
    def n_rows(self) -> int:
        return 2 * self.n_ct + self.n_ev + self.n_b

    @property
    def n_fixed(self) -> int:  # master columns before the x columns
        return 2 * self.n_ct + self.n_ev


@dataclass(frozen=True, slots=True)
class _Events:
    """The rows a column enters and leaves in one flow family (-1: none), and per row whether
    it is the first of its line (cover) or pledge (cycle)."""

    n: int
    enter: np.ndarray
    leave: np.ndarray
    first: np.ndarray


def stop_reason(
    rounds: int, deadline: float, should_stop: Callable[[], bool] | None, max_rounds: int | None
) -> str | None:
    """Why a column-generation loop stops after ``rounds`` rounds short of convergence (the
    time, a stop request, the round cap), or None to go on; its Lagrangian bound is kept."""
    if time.perf_counter() >= deadline or (should_stop is not None and should_stop()):
        return f"stopped by the time limit after {rounds} round(s); Lagrangian bound kept"
    if max_rounds is not None and rounds >= max_rounds:
        return f"stopped after {rounds} round(s); Lagrangian bound kept"
    return None


def _cover_events(tb: PlanningTables, u_line: np.ndarray, u_period: np.ndarray, cols: dict[str, np.ndarray]) -> _Events:
    """Cover-flow rows: one per (line, period) shortfall variable, each line's periods in order."""
    line = tb.arc_line[cols["arc"]]
    row0 = np.full(tb.n_lines, -1, dtype=np.int64)
    for i, l_ in enumerate(u_line):
        if row0[l_] < 0:
            row0[l_] = i
    first_of = tb.line_first[u_line] == u_period  # first period of its line
    enter_ct = row0[line] + (cols["start"] - tb.line_first[line])
    has_leave = cols["last"] + 1 <= tb.line_last[line]
    leave_ct = np.where(has_leave, row0[line] + (cols["last"] + 1 - tb.line_first[line]), -1)
    return _Events(int(u_line.size), enter_ct, leave_ct, first_of)


def _cycle_events(tb: PlanningTables, cols: dict[str, np.ndarray], grid_days: int | None) -> tuple[_Events, np.ndarray]:
    """Cycle-flow rows (every departure day of the pledge's columns in the FULL set, or the
    grid days inside some busy interval of the pledge), and the pledge of each row."""
    H = tb.horizon_days
    pledge = tb.arc_pledge[cols["arc"]]
    busy_last = np.minimum(cols["busy_end"], H - 1)
    if grid_days is None:
        key = pledge * DAY_KEY + cols["departure"]
        ev = np.unique(key)
    else:  # check days: the grid days inside some busy interval of the pledge
        g = int(grid_days)
        first_check = -(-cols["departure"] // g) * g
        has = first_check <= busy_last
        key = pledge * DAY_KEY + first_check
        days = np.arange(0, H, g, dtype=np.int64)
        ev = np.unique((np.arange(tb.n_pledges, dtype=np.int64)[:, None] * DAY_KEY + days[None, :]).ravel())
        used = np.unique(pledge)
        ev = ev[np.isin(ev // DAY_KEY, used)]
    n_ev = int(ev.size)
    enter_ev = np.searchsorted(ev, key)
    after = np.searchsorted(ev, pledge * DAY_KEY + busy_last, side="right")
    ev_pledge = ev // DAY_KEY
    same = (after < n_ev) & (ev_pledge[np.minimum(after, n_ev - 1)] == pledge)
    leave_ev = np.where(same, after, -1)
    if grid_days is not None:  # a busy interval between two check days touches no cycle row
        enter_ev = np.where(has, enter_ev, -1)
        leave_ev = np.where(has, leave_ev, -1)
    ev_first = np.ones(n_ev, dtype=bool)
    ev_first[1:] = ev_pledge[1:] != ev_pledge[:-1]
    return _Events(n_ev, enter_ev, leave_ev, ev_first), ev_pledge


def _master_base(
    rel: Relaxation,
    cover: _Events,
    cycle: _Events,
    u_cost: np.ndarray,
    qty: np.ndarray,
    ev_units: np.ndarray,
    budget: np.ndarray,
) -> MatrixProblem:
    """The master without x: u, the stocks, their flow rows. ``u_cost`` and ``qty``: per
    shortfall variable (cover row); ``ev_units``: per cycle row, its pledge's units;
    ``budget``: per budget row."""
    n_ct, n_ev = cover.n, cycle.n
    ct = np.arange(n_ct)
    prev = ~cover.first
    e = np.arange(n_ev)
    eprev = ~cycle.first
    r_fl = np.concatenate([ct, ct[prev], n_ct + ct, n_ct + ct, 2 * n_ct + e, 2 * n_ct + e[eprev]])
    c_fl = np.concatenate([n_ct + ct, n_ct + ct[prev] - 1, ct, n_ct + ct, 2 * n_ct + e, 2 * n_ct + e[eprev] - 1])
    v_fl = np.concatenate(
        [
            np.ones(n_ct),
            -np.ones(int(prev.sum())),
            np.ones(n_ct),
            np.ones(n_ct),
            np.ones(n_ev),
            -np.ones(int(eprev.sum())),
        ]
    )
    A = sp.csc_matrix((v_fl, (r_fl, c_fl)), shape=(rel.n_rows, rel.n_fixed))
    inf = float("inf")
    return MatrixProblem(
        cost=np.concatenate([u_cost, np.zeros(n_ct + n_ev)]),
        col_lo=np.zeros(rel.n_fixed),
        col_hi=np.concatenate([qty, np.full(n_ct, inf), ev_units]),
        A=A,
        row_lo=np.concatenate([np.zeros(n_ct), qty, np.zeros(n_ev), np.full(budget.size, -inf)]),
        row_hi=np.concatenate([np.zeros(n_ct), np.full(n_ct, inf), np.zeros(n_ev), budget]),
    )


def relaxation(tb: PlanningTables, options: PlanOptions, grid_days: int | None = None) -> Relaxation:
    """All columns of the full model and the rows of the relaxation (see the module doc).

    ``grid_days``: the cycle rows only on the days 0, g, 2g, ... (busy units of a pledge on
    those days <= its units) instead of on every departure day: fewer rows, a weaker but still
    valid relaxation (each such row holds for every plan of the full model)."""
    from coalition.planner.model import Model, define_objective, define_shortfall_variables

    cols = _start_columns(tb, tuple(options.departure_delays))
    line = tb.arc_line[cols["arc"]]
    pledge = tb.arc_pledge[cols["arc"]]
    w = options.weights
    cost = (
        w.lateness * tb.line_prio_w[line] * cols["late"]
        + w.distance * tb.corridor_distance[tb.arc_corridor[cols["arc"]]]
    )
    # shortfall variables (their costs) exactly as the model defines them
    m = Model(tables=tb, options=options)
    define_shortfall_variables(m)
    define_objective(m)
    u_cost = np.concatenate(m.cost_parts) if m.cost_parts else np.zeros(0)
    cover = _cover_events(tb, m.u_line, m.u_period, cols)
    cycle, ev_pledge = _cycle_events(tb, cols, grid_days)
    # rotation budgets where they can bind
    budget = tb.pledge_rotations * tb.pledge_units
    bl = np.flatnonzero(budget < tb.pledge_units * max_tours_per_unit(tb))
    b_of = np.full(tb.n_pledges, -1, dtype=np.int64)
    b_of[bl] = np.arange(bl.size)
    rel = Relaxation(
        cols=cols,
        cost=cost,
        ub=tb.pledge_units[pledge].astype(np.float64),
        n_ct=cover.n,
        n_ev=cycle.n,
        n_b=int(bl.size),
        enter_ct=cover.enter,
        leave_ct=cover.leave,
        enter_ev=cycle.enter,
        leave_ev=cycle.leave,
        budget_row=b_of[pledge],
        pledge=pledge,
        max_units=np.minimum(tb.pledge_units * max_tours_per_unit(tb), budget).astype(np.float64),
        units=tb.pledge_units.astype(np.float64),
        horizon=int(tb.horizon_days),
    )
    rel.base = _master_base(
        rel,
        cover,
        cycle,
        u_cost,
        tb.line_qty[m.u_line].astype(np.float64),
        tb.pledge_units[ev_pledge].astype(np.float64),
        budget[bl].astype(np.float64),
    )
    return rel


def column_matrix(rel: Relaxation, idx: np.ndarray) -> sp.csc_matrix:
    """The relaxation's rows of columns ``idx`` (n_rows x len(idx))."""
    k = idx.size
    j = np.arange(k)
    ee = rel.enter_ev[idx]
    ok_e = ee >= 0
    parts_r = [rel.enter_ct[idx], 2 * rel.n_ct + ee[ok_e]]
    parts_c = [j, j[ok_e]]
    parts_v = [-np.ones(k), -np.ones(int(ok_e.sum()))]
    lc, le, br = rel.leave_ct[idx], rel.leave_ev[idx], rel.budget_row[idx]
    for rows, off, sign in ((lc, 0, 1.0), (le, 2 * rel.n_ct, 1.0), (br, 2 * rel.n_ct + rel.n_ev, 1.0)):
        ok = rows >= 0
        parts_r.append(off + rows[ok])
        parts_c.append(j[ok])
        parts_v.append(np.full(int(ok.sum()), sign))
    return sp.csc_matrix(
        (np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))), shape=(rel.n_rows, k)
    )


def reduced_costs(rel: Relaxation, y: np.ndarray) -> np.ndarray:
    """rc_j = c_j - A_j^T y for every column of the full set (vectorised look-ups)."""
    y_ct, y_ev, y_b = y[: rel.n_ct], y[2 * rel.n_ct : 2 * rel.n_ct + rel.n_ev], y[2 * rel.n_ct + rel.n_ev :]
    dot = -y_ct[rel.enter_ct] - np.where(rel.enter_ev >= 0, y_ev[np.maximum(rel.enter_ev, 0)], 0.0)
    dot += np.where(rel.leave_ct >= 0, y_ct[np.maximum(rel.leave_ct, 0)], 0.0)
    dot += np.where(rel.leave_ev >= 0, y_ev[np.maximum(rel.leave_ev, 0)], 0.0)
    if y_b.size:
        dot += np.where(rel.budget_row >= 0, y_b[np.maximum(rel.budget_row, 0)], 0.0)
    rc: np.ndarray = rel.cost - dot
    return rc


def lagrangian_bound(rel: Relaxation, rc: np.ndarray, z: float, x_master: np.ndarray, master: np.ndarray) -> float:
    """A lower bound of OPT(full) from the master's duals (``rc`` = reduced costs of every
    column at them; ``x_master`` the master's values of its columns ``master``).

    Lagrangian relaxation of every row of the relaxation, keeping per pledge the box
    0 <= x_j <= U_p and ``sum_j x_j <= max_units[p]`` (a unit starts at most one tour per period
    and its departures are more than its recovery apart, and at most its rotation budget: every
    plan of the full model obeys it). By complementary slackness the master's own part is
    ``z - sum rc_j x_j`` over its columns; each pledge then adds the minimum of
    ``sum rc_j x_j`` over its set, which a greedy attains (most negative reduced costs first,
    U_p each, until max_units[p])."""
    base = z - float(rc[master] @ x_master)
    neg = np.flatnonzero(rc < 0)
    if not neg.size:
        return base
    p = rel.pledge[neg]
    order = np.lexsort((rc[neg], p))
    neg, p = neg[order], p[order]
    ub = rel.ub[neg]
    cum = np.cumsum(ub)
    first = np.ones(neg.size, dtype=bool)
    first[1:] = p[1:] != p[:-1]
    start_cum = np.maximum.accumulate(np.where(first, cum - ub, 0.0))
    before = cum - ub - start_cum  # units of this pledge already taken
    take = np.clip(rel.max_units[p] - before, 0.0, ub)
    return base + float(rc[neg] @ take)


def _pick(rel: Relaxation, rc: np.ndarray, neg: np.ndarray, limit: int, per_group: int = 2) -> np.ndarray:
    """Columns to add: for every (line, start period) its ``per_group`` most negative reduced
    costs (so every line gets columns, not only the costliest ones), then the most negative
    others, at most ``limit``."""
    cand = np.flatnonzero(neg)
    if cand.size <= limit:
        return cand
    g = rel.enter_ct[cand]
    order = np.lexsort((rc[cand], g))
    cand, g = cand[order], g[order]
    first = np.ones(cand.size, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    rank = np.arange(cand.size) - np.maximum.accumulate(np.where(first, np.arange(cand.size), 0))
    pick = cand[rank < per_group]
    if pick.size > limit:
        return np.sort(pick[np.argpartition(rc[pick], limit)[:limit]])
    rest = cand[rank >= per_group]
    room = limit - pick.size
    if room > 0 and rest.size:
        rest = rest[np.argpartition(rc[rest], min(room, rest.size - 1))[:room]]
        pick = np.concatenate([pick, rest])
    return np.sort(pick)


@dataclass(slots=True)
class ColgenResult:
    bound: float | None  # a valid lower bound of the full model (None: none proven)
    converged: bool  # pricing found no negative reduced cost
    lp_bound: bool  # the bound is the relaxation's LP value (else a Lagrangian bound)
    columns: np.ndarray  # indices (into the full column set) in the master, sorted
    values: np.ndarray  # LP value of each of ``columns``
    rounds: int
    master_objective: float | None
    seconds: float
    message: str
    rc: np.ndarray | None = None  # reduced costs of every column at the last master's duals
    duals: np.ndarray | None = None  # the last optimal master's row duals


def solve_relaxation(
    rel: Relaxation,
    options: PlanOptions,
    deadline: float,
    initial: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_rounds: int | None = None,
) -> ColgenResult:
    """Column generation until pricing proves the master optimal, ``deadline`` passes or
    ``max_rounds`` masters were solved."""
    t0 = time.perf_counter()
    n_all = rel.cost.size
    in_master = np.zeros(n_all, dtype=bool)
    idx0 = np.zeros(0, np.int64) if initial is None else np.unique(np.asarray(initial, np.int64))
    in_master[idx0] = True
    Ax = column_matrix(rel, idx0)
    b = rel.base
    assert b is not None, "a Relaxation from build_relaxation"
    prob = MatrixProblem(
        cost=np.concatenate([b.cost, rel.cost[idx0]]),
        col_lo=np.concatenate([b.col_lo, np.zeros(idx0.size)]),
        col_hi=np.concatenate([b.col_hi, rel.ub[idx0]]),
        A=sp.hstack([b.A, Ax]).tocsc(),
        row_lo=b.row_lo,
        row_hi=b.row_hi,
    )
    hm = HighsModel(
        prob,
        SolverOptions(threads=int(options.threads), seed=int(options.seed), method="simplex", presolve=False),
        should_stop=should_stop,
        deadline=deadline,
    )
    # (primal simplex was measured slower here than HiGHS's default dual simplex: M 56 s vs 14 s)
    order = list(idx0)
    best: float | None = None
    converged = lp_is_best = False
    rounds = 0
    z = None
    rc_all = None
    duals = None
    values = np.zeros(0)
    msg = "no master solved"
    while True:
        r = hm.run()
        rounds += 1
        if r.outcome is not Outcome.OPTIMAL or r.row_duals is None or r.values is None:
            msg = f"master LP stopped ({r.outcome.value}) in round {rounds}"
            break
        z = float(r.objective or 0.0)
        duals = r.row_duals
        values = r.values[rel.n_fixed :]
        rc_all = reduced_costs(rel, r.row_duals)
        rc = np.where(in_master, 0.0, rc_all)
        neg = rc < -RC_TOL
        lagr = lagrangian_bound(rel, rc_all, z, values, np.asarray(order, dtype=np.int64))
        best = lagr if best is None else max(best, lagr)
        if TRACE is not None:
            TRACE(rounds, z, lagr, int(neg.sum()), r.time)
        if not neg.any():
            converged = True
            lp_is_best = z >= best
            best = max(best, z)
            msg = f"pricing: no negative reduced cost after {rounds} round(s)"
            break
        if (stop := stop_reason(rounds, deadline, should_stop, max_rounds)) is not None:
            msg = stop
            break
        cand = _pick(rel, rc, neg, ROUND_COLUMNS)
        in_master[cand] = True
        order.extend(cand.tolist())
        hm.add_cols(rel.cost[cand], np.zeros(cand.size), rel.ub[cand], column_matrix(rel, cand))
        if rounds >= PRIMAL_FROM_ROUND:
            # the last basis stays primal feasible when columns are added: primal simplex
            # resumes from it (from the first all-shortfall basis the dual simplex is faster)
            hm.set_option("simplex_strategy", 4)
    idx = np.asarray(order, dtype=np.int64)
    vals = values if values.size == idx.size else np.zeros(idx.size)
    srt = np.argsort(idx, kind="stable")
    return ColgenResult(
        bound=best,
        converged=converged,
        lp_bound=converged and lp_is_best,
        columns=idx[srt],
        values=vals[srt],
        rounds=rounds,
        master_objective=z,
        seconds=time.perf_counter() - t0,
        message=msg,
        rc=rc_all,
        duals=duals,
    )


def restricted_columns(
    rel: Relaxation,
    res: ColgenResult,
    tb: PlanningTables,
    cap: int,
    rc: np.ndarray | None = None,
    extra: np.ndarray | None = None,
) -> np.ndarray:
    """Columns of the restricted model plans are searched on (at most ``cap``): the master's
    LP support first, then ``extra`` (the chain bound's best chains), the master's other
    columns with the smallest reduced cost, then, for breadth, the columns of each line's
    earliest-arriving pledges (the greedy needs alternatives when capacity rows bind). Sorted
    indices into the full column set."""
    from coalition.planner.tables import trim_arc_mask

    support = res.columns[res.values > 1e-6]
    chosen = np.zeros(rel.cost.size, dtype=bool)
    chosen[support] = True
    if extra is not None and extra.size:
        chosen[extra[: max(0, cap - int(chosen.sum()))]] = True
    room = cap - int(chosen.sum())
    if room > 0 and rc is not None:
        rest = np.setdiff1d(res.columns, support, assume_unique=True)
        take = rest[np.argsort(rc[rest], kind="stable")[: min(room, 2 * support.size)]]
        chosen[take] = True
    arc = rel.cols["arc"]
    for k in (48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1):
        room = cap - int(chosen.sum())
        if room <= 0:
            break
        extra = trim_arc_mask(tb, k)[arc] & ~chosen
        if int(extra.sum()) <= room:
            chosen |= extra
            break
    return np.flatnonzero(chosen)
