"""The Lagrangian bound of the full model with each pledge's unit cycle kept exact, and a
subgradient ascent on it (docs/planner/model.md, *The chain bound*).

Relax, with multipliers ``pi[l, t] >= 0``, the ``Line-cover`` rows
``sum_{j covers (l,t)} x_j + u[l,t] >= q_l`` and, with ``mu[p] >= 0``, the rotation budgets
``sum_{j in J(p)} x_j <= R_p U_p``; leave out every other family the column-generation
relaxation leaves out (capacity, cohesion, enablers-first, sustainment: removing rows only
relaxes); and keep, per pledge, its exact ``Pledge-unit-cycle`` rows (at most ``U_p`` of its units
busy, departure to tour end + return + recovery, on any day) with ``0 <= x_j <= U_p``. For every
``pi >= 0, mu >= 0``

    L(pi, mu) = sum_{l,t} q_l pi[l,t] + sum_{l,t} q_l min(0, c_u[l,t] - pi[l,t])
                - sum_p R_p U_p mu[p] + sum_p U_p min_{chains C of p} sum_{j in C} rc_j

with ``rc_j = c_j - sum_{t = start_j}^{last_j} pi[l_j, t] + mu[p_j]`` is a lower bound of the full
model (weak duality: every plan of the full model is feasible for the kept constraints and makes
each relaxed term <= 0). The pledge's term is exact because ``{x : 0 <= x, at most U_p busy on
any day}`` is ``U_p`` times the polytope of one unit, whose matrix (busy intervals x days) is an
interval matrix, totally unimodular: its vertices are sets of pairwise disjoint busy intervals
("chains"), and the least chain is a weighted interval scheduling problem
(:func:`chain_solve`). Valid at ANY multipliers, so the best value over a subgradient ascent is
a bound too; its supremum is the LP of the relaxation with the exact cycle rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coalition.planner.caprows import (
    CapRows,
    broken,
    dense_price,
    dense_scale,
    dense_slack,
    entries,
    n_dense,
    price,
)
from coalition.planner.colgen import Relaxation, stop_reason
from coalition.solvers.highs import HighsModel, MatrixProblem, Outcome, SolverOptions


@dataclass(frozen=True, slots=True)
class DualProblem:
    """The data of L(pi, mu), every column sorted by the last day of its busy interval."""

    order: np.ndarray  # column indices of the full set, by busy end (the arrays below follow it)
    cost: np.ndarray
    row_first: np.ndarray  # cover row of the column's start period
    row_last: np.ndarray  # cover row of its last period served
    pledge: np.ndarray
    depart: np.ndarray  # first busy day (departure)
    end: np.ndarray  # last busy day (capped at the horizon)
    budget_row: np.ndarray  # -1: none
    units: np.ndarray  # per pledge
    qty: np.ndarray  # per cover row
    c_u: np.ndarray  # per cover row: the cost of one unit short
    budget: np.ndarray  # per budget row: R_p U_p
    n_pledges: int
    budget_row_of_pledge: np.ndarray  # per pledge: its budget row (-1: none)


def dual_problem(rel: Relaxation) -> DualProblem:
    """L's data from the column-generation relaxation (its full column set, its cover rows and
    rotation budgets; its cycle rows are not used: each pledge's are kept exact instead)."""
    base = rel.base
    assert base is not None, "a Relaxation from colgen.relaxation"
    qty = base.col_hi[: rel.n_ct]
    c_u = base.cost[: rel.n_ct]
    budget = base.row_hi[2 * rel.n_ct + rel.n_ev :]
    b_of = np.full(rel.n_pledges, -1, dtype=np.int64)
    b_of[rel.pledge] = rel.budget_row
    end = np.minimum(rel.cols["busy_end"], int(rel.horizon) - 1)
    order = np.argsort(end, kind="stable")
    last = rel.enter_ct + (rel.cols["last"] - rel.cols["start"])
    return DualProblem(
        order=order,
        cost=rel.cost[order],
        row_first=rel.enter_ct[order],
        row_last=last[order],
        pledge=rel.pledge[order],
        depart=rel.cols["departure"][order],
        end=end[order],
        budget_row=rel.budget_row[order],
        units=rel.units,
        qty=qty,
        c_u=c_u,
        budget=budget,
        n_pledges=rel.n_pledges,
        budget_row_of_pledge=b_of,
    )


def multipliers(rel: Relaxation, row_duals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pi, mu) from a column-generation master's row duals: its cover rows' duals and the
    negated duals of its budget rows (``<=`` rows of a minimisation have duals <= 0), made
    feasible (pi >= 0, mu >= 0)."""
    n_ct, n_ev = rel.n_ct, rel.n_ev
    pi = np.maximum(row_duals[n_ct : 2 * n_ct], 0.0)
    mu = np.maximum(-row_duals[2 * n_ct + n_ev :], 0.0)
    return pi, mu


def chain_solve(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, weight: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the least total weight of pairwise disjoint closed day intervals
    ``[start_j, end_j]`` (0: none) and the intervals of one such chain (indices, all groups).
    The inputs must be sorted by ``end``. A dynamic programme over days, vectorised over the
    groups: ``f[d, g]`` is the best chain of g's intervals that all end before day ``d``."""
    neg = np.flatnonzero(weight < 0)
    if not neg.size:
        return np.zeros(n_groups), np.zeros(0, np.int64)
    g, e, w = group[neg], end[neg], weight[neg]
    lo = int(min(int(start[neg].min()), 0))
    s = start[neg] - lo
    e = e - lo
    n_days = int(e.max()) + 2
    f = np.zeros((n_days, n_groups))
    pick = np.full((n_days, n_groups), -1, dtype=np.int64)  # last interval of f[d, g]'s chain
    bounds = np.searchsorted(e, np.arange(n_days), side="left")
    for d in range(n_days - 1):
        row, prow = f[d + 1], pick[d + 1]
        row[:] = f[d]
        prow[:] = pick[d]
        a, b = int(bounds[d]), int(bounds[d + 1])
        if a == b:
            continue
        gg = g[a:b]
        cand = f[s[a:b], gg] + w[a:b]
        np.minimum.at(row, gg, cand)
        won = cand <= row[gg]
        won &= cand < f[d, gg]
        prow[gg[won]] = neg[a:b][won]
    best = f[n_days - 1].copy()
    # walk each group's chain back from the last day (at most one interval per group a step)
    chosen: list[np.ndarray] = []
    cur = pick[n_days - 1].copy()
    grp = np.flatnonzero(cur >= 0)
    cur = cur[grp]
    while cur.size:
        chosen.append(cur)
        nxt = pick[start[cur] - lo, grp]
        keep = nxt >= 0
        grp, cur = grp[keep], nxt[keep]
    picked = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
    return best, picked


@dataclass(frozen=True, slots=True)
class Evaluation:
    """L(pi, mu) and a subgradient: the cover each row gets from the chains, the shortfall
    the relaxed u takes, and each budget row's use."""

    value: float
    columns: np.ndarray  # columns (positions in DualProblem order) of the chains, U_p units each
    g_pi: np.ndarray
    g_mu: np.ndarray
    chain: np.ndarray  # per pledge: the reduced cost of its best chain (<= 0)
    rc: np.ndarray  # every column's reduced cost (DualProblem order)
    g_rho: np.ndarray  # with ``dense``: load - capacity of every capacity row


def reduced_costs(dp: DualProblem, pi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """rc_j = c_j - sum of pi over the rows j covers + mu of its budget row (DualProblem order)."""
    cum = np.concatenate([[0.0], np.cumsum(pi)])
    rc: np.ndarray = dp.cost - (cum[dp.row_last + 1] - cum[dp.row_first])
    if mu.size:
        has = dp.budget_row >= 0
        rc[has] += mu[dp.budget_row[has]]
    return rc


def evaluate(
    dp: DualProblem,
    pi: np.ndarray,
    mu: np.ndarray,
    cap: tuple[CapRows, np.ndarray] | None = None,
    dense: tuple[CapRows, np.ndarray] | None = None,
) -> Evaluation:
    """L(pi, mu) (a lower bound of the full model for any pi >= 0, mu >= 0) and a subgradient.
    ``cap``: capacity rows of the full model and their multipliers ``rho >= 0``, relaxed too
    (:mod:`coalition.planner.caprows`); the subgradient then leaves them out."""
    rc = reduced_costs(dp, pi, mu)
    const = 0.0
    if cap is not None:
        add, const = price(cap[0], np.maximum(cap[1], 0.0))
        rc += add
    if dense is not None:  # a multiplier on every capacity row (caprows.n_dense)
        add, const = dense_price(dense[0], dense[1])
        rc += add
    best, cols = chain_solve(dp.pledge, dp.depart, dp.end, rc, dp.n_pledges)
    short = np.minimum(0.0, dp.c_u - pi)
    value = float(dp.qty @ pi + dp.qty @ short - dp.budget @ mu + dp.units @ best) + const
    amount = dp.units[dp.pledge[cols]]
    diff = np.zeros(dp.qty.size + 1)
    np.add.at(diff, dp.row_first[cols], amount)
    np.add.at(diff, dp.row_last[cols] + 1, -amount)
    cover = np.cumsum(diff[:-1])
    u_hat = np.where(short < 0, dp.qty, 0.0)
    g_pi = dp.qty - cover - u_hat
    g_mu = -dp.budget.copy()
    if dp.budget.size:
        b = dp.budget_row[cols]
        np.add.at(g_mu, b[b >= 0], amount[b >= 0])
    g_rho = np.zeros(0)
    if dense is not None:
        g_rho = dense_slack(dense[0], cols, amount)
    return Evaluation(value, cols, g_pi, g_mu, best, rc, g_rho)


# the first Polyak step factor of the ascent (halved after ``patience`` rounds without progress;
# the ascent ends once it is below MIN_STEP: it has stalled)
STEP = 1.0
MIN_STEP = 1e-3
PATIENCE = 10
# the Polyak target is kept at least this share above the best value so far
TARGET_LIFT = 0.02


@dataclass(slots=True)
class AscentResult:
    bound: float  # the best L(pi, mu) found (a lower bound of the full model)
    pi: np.ndarray
    mu: np.ndarray
    iterations: int
    seconds: float
    columns: np.ndarray  # indices into the full column set used by the chains at the best point


def ascent(
    dp: DualProblem,
    pi0: np.ndarray,
    mu0: np.ndarray,
    deadline: float,
    target: float,
    *,
    max_iterations: int | None = None,
    cap: CapRows | None = None,
    trace: Callable[[int, float, float], None] | None = None,
) -> AscentResult:
    """Projected subgradient ascent on L from ``(pi0, mu0)`` (Polyak steps towards ``target``,
    an estimate of the best bound, e.g. the chain master's value, kept TARGET_LIFT above the best
    value so far; the step factor halves after
    PATIENCE rounds without progress). ``cap``: every capacity row of the full model relaxed
    too, its multipliers starting at 0. Stops at ``deadline`` or after ``max_iterations``.
    Every point evaluated gives a valid bound; the best is returned. ``pi`` stays in
    ``[0, c_u]`` (beyond ``c_u`` a multiplier can only lower L)."""
    t0 = time.perf_counter()
    pi = np.clip(pi0, 0.0, dp.c_u)
    mu = np.maximum(mu0, 0.0)
    # rho = rho_s / scale: the multipliers of the capacity rows divided by their capacities
    rho_s = np.zeros(0 if cap is None else n_dense(cap))
    scale = np.ones(0) if cap is None else dense_scale(cap)

    def run() -> Evaluation:
        return evaluate(dp, pi, mu, dense=None if cap is None else (cap, rho_s / scale))

    ev = run()
    best = AscentResult(ev.value, pi.copy(), mu.copy(), 1, 0.0, dp.order[ev.columns])
    lam, stale, it = STEP, 0, 1
    while time.perf_counter() < deadline and (max_iterations is None or it < max_iterations) and lam >= MIN_STEP:
        g_s = ev.g_rho / scale if cap is not None else ev.g_rho
        g_rho = np.where((rho_s > 0) | (g_s > 0), g_s, 0.0)  # the projected part
        norm = float(ev.g_pi @ ev.g_pi + ev.g_mu @ ev.g_mu + g_rho @ g_rho)
        if norm <= 0.0:
            break  # a zero subgradient: (pi, mu) maximises L
        # a target the best point has (nearly) reached is lifted: it is only an estimate
        goal = max(target, best.bound + TARGET_LIFT * abs(best.bound))
        t = lam * max(goal - ev.value, 1e-9 * abs(goal) + 1e-9) / norm
        pi = np.clip(pi + t * ev.g_pi, 0.0, dp.c_u)
        mu = np.maximum(mu + t * ev.g_mu, 0.0)
        if cap is not None:
            rho_s = np.maximum(rho_s + t * g_s, 0.0)
        ev = run()
        it += 1
        if trace is not None:
            trace(it, ev.value, lam)
        if ev.value > best.bound + 1e-9 * abs(best.bound):
            best = AscentResult(ev.value, pi.copy(), mu.copy(), it, 0.0, dp.order[ev.columns])
            stale = 0
        else:
            stale += 1
            if stale >= PATIENCE:
                lam, stale = lam / 2.0, 0
    best.iterations = it
    best.seconds = time.perf_counter() - t0
    return best


# A chain joins the chain master when its reduced cost is below -CHAIN_RC_TOL (objective units;
# one unit-day of shortfall costs >= 1000).
CHAIN_RC_TOL = 1e-6


@dataclass(slots=True)
class ChainResult:
    """The chain master's outcome: the best L found (a lower bound of the full model), whether
    pricing proved the master optimal (its LP value is then the relaxation's LP with exact
    cycle rows), and the Assign-count columns of its chains with their LP values."""

    bound: float | None
    converged: bool
    objective: float | None  # the last master LP's value
    columns: np.ndarray  # indices into the full column set, sorted
    values: np.ndarray  # LP value of each (units: the sum over its chains)
    rc: np.ndarray | None  # reduced costs of every column (full-set order) at the last duals
    duals: tuple[np.ndarray, np.ndarray] | None  # (pi, mu) of the best bound
    rounds: int
    seconds: float
    message: str


def _chain_columns(
    dp: DualProblem, cols: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csc_matrix]:
    """The master columns of the chains made of ``cols`` (DualProblem positions; one chain per
    pledge): pledges, costs, tours per chain, and the matrix (cover | budget | convexity rows)."""

    p_of = dp.pledge[cols]
    pledges, chain = np.unique(p_of, return_inverse=True)
    k = pledges.size
    cost = np.bincount(chain, weights=dp.cost[cols], minlength=k)
    tours = np.bincount(chain, minlength=k).astype(np.float64)
    length = dp.row_last[cols] - dp.row_first[cols] + 1
    rep = np.repeat(np.arange(cols.size), length)
    off = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    rows = [dp.row_first[cols][rep] + off]
    cc = [chain[rep]]
    vals = [np.ones(rep.size)]
    n_ct, n_b = dp.qty.size, dp.budget.size
    b_of = dp.budget_row_of_pledge[pledges]
    has = b_of >= 0
    rows += [n_ct + b_of[has], np.full(k, n_ct + n_b) + pledges]
    cc += [np.flatnonzero(has), np.arange(k)]
    vals += [tours[has], np.ones(k)]
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cc))), shape=(n_rows, k))
    return pledges, cost, tours, A


# capacity rows added to the chain master per round (the worst broken first)
ROWS_PER_ROUND = 4000
# HiGHS's method for the chain master's LPs (warm-started dual simplex)
MASTER_METHOD = "simplex"


# Wentges' dual smoothing of the chain master: price at this share of the best point so far
# plus the rest of the master's duals (0: plain column generation)
SMOOTHING = 0.5


@dataclass(frozen=True, slots=True)
class _Point:
    """Multipliers of L: cover rows, budget rows, the chain master's capacity rows."""

    pi: np.ndarray
    mu: np.ndarray
    rho: np.ndarray

    def mix(self, other: _Point, a: float) -> _Point:
        """``a * self + (1 - a) * other`` (capacity rows added since: 0 in self)."""
        rho = np.zeros(other.rho.size)
        rho[: self.rho.size] = self.rho[: other.rho.size]
        return _Point(a * self.pi + (1 - a) * other.pi, a * self.mu + (1 - a) * other.mu, a * rho + (1 - a) * other.rho)


@dataclass(slots=True)
class _ChainMaster:
    """The chain master's state: the HiGHS model, its chains (their tours) and capacity rows."""

    dp: DualProblem
    cr: CapRows | None
    hm: HighsModel
    tour_pos: list[np.ndarray] = field(default_factory=list)  # per chain: its tours
    n_chains: int = 0

    @property
    def n_base_rows(self) -> int:
        return self.dp.qty.size + self.dp.budget.size + self.dp.n_pledges

    def tours(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.tour_pos:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        k = np.repeat(np.arange(len(self.tour_pos)), [c.size for c in self.tour_pos])
        return np.concatenate(self.tour_pos), k

    def add_chains(self, cols: np.ndarray) -> None:
        """One chain per pledge of ``cols`` (DualProblem positions)."""
        dp = self.dp
        n_rows = self.n_base_rows + (self.cr.n_rows if self.cr is not None else 0)
        pledges, cost, _, A = _chain_columns(dp, cols, n_rows)
        p_of = dp.pledge[cols]
        new = [cols[p_of == p] for p in pledges]
        if self.cr is not None and self.cr.n_rows:
            pos = np.concatenate(new)
            k = np.repeat(np.arange(len(new)), [c.size for c in new])
            r, j, v = entries(self.cr, pos, np.arange(self.cr.n_rows))
            extra = sp.csc_matrix((v, (self.n_base_rows + r, k[j])), shape=(n_rows, len(new)))
            A = sp.csc_matrix(A + extra)
        self.tour_pos += new
        self.n_chains += len(new)
        self.hm.add_cols(cost, np.zeros(len(new)), np.full(len(new), np.inf), A)

    def price(self, y: np.ndarray, center: _Point | None) -> tuple[Evaluation, _Point, np.ndarray]:
        """Price at the master's duals ``y`` - or, with a ``center`` (the best point so far), at
        Wentges' smoothed point ``SMOOTHING * center + (1 - SMOOTHING) * y`` when that finds a
        chain that also prices out at ``y`` (else, mispricing, at ``y`` itself). Returns the
        evaluation, its point (both valid for the bound) and the chains to add (their columns)."""
        dp = self.dp
        n_ct, n_b, n_base = dp.qty.size, dp.budget.size, self.n_base_rows
        at_y = _Point(np.maximum(y[:n_ct], 0.0), np.maximum(-y[n_ct : n_ct + n_b], 0.0), np.maximum(-y[n_base:], 0.0))
        sigma = np.minimum(y[n_ct + n_b : n_base], 0.0)
        if center is not None and SMOOTHING > 0:
            pt = center.mix(at_y, SMOOTHING)
            ev = self.evaluate(pt)
            rc_y = reduced_costs(dp, at_y.pi, at_y.mu)
            if self.cr is not None and at_y.rho.size:
                rc_y += price(self.cr, at_y.rho)[0]
            chain_y = np.bincount(dp.pledge[ev.columns], weights=rc_y[ev.columns], minlength=dp.n_pledges)
            new = (chain_y - sigma < -CHAIN_RC_TOL * np.maximum(1.0, np.abs(chain_y))) & (ev.chain < 0)
            if new.any():
                return ev, pt, ev.columns[new[dp.pledge[ev.columns]]]
        ev = self.evaluate(at_y)
        new = ev.chain - sigma < -CHAIN_RC_TOL * np.maximum(1.0, np.abs(ev.chain))
        return ev, at_y, ev.columns[new[dp.pledge[ev.columns]]]

    def evaluate(self, pt: _Point) -> Evaluation:
        cap = None if self.cr is None else (self.cr, pt.rho)
        return evaluate(self.dp, pt.pi, pt.mu, cap)

    def add_rows(self, lam: np.ndarray) -> int:
        """The capacity rows the master's plan breaks (at most ROWS_PER_ROUND); how many."""
        if self.cr is None or not self.tour_pos:
            return 0
        pos, k = self.tours()
        use = lam[k] > 1e-9
        new = broken(self.cr, pos[use], lam[k][use], ROWS_PER_ROUND)
        if not new:
            return 0
        first = self.cr.n_rows
        self.cr.keys += [key for key, _ in new]
        self.cr.caps += [c for _, c in new]
        r, j, v = entries(self.cr, pos, np.arange(first, self.cr.n_rows))
        n_cols = self.dp.qty.size + self.n_chains
        A = sp.csr_matrix((v, (r, self.dp.qty.size + k[j])), shape=(len(new), n_cols))
        caps = np.array([c for _, c in new])
        self.hm.add_rows(A, np.full(len(new), -np.inf), caps)
        return len(new)


def chain_master(
    dp: DualProblem,
    deadline: float,
    *,
    should_stop: Callable[[], bool] | None = None,
    max_rounds: int | None = None,
    cap: CapRows | None = None,
    solver: tuple[int, int] = (1, 0),
    trace: Callable[[str], None] | None = None,
) -> ChainResult:
    """Dantzig-Wolfe column generation over chains: a master LP with the cover rows, the
    rotation budgets, per pledge ``sum of its chains' units <= U_p`` and (``cap``) the capacity
    rows its plans break, added round by round; its columns the shortfall u and the chains
    found so far (a chain's units follow all its tours). Each round prices every column of the
    full set at the master's duals, and the best chain of each pledge (:func:`chain_solve`)
    joins the master if its reduced cost (less the pledge's convexity dual) is negative. At
    every round ``L`` at the master's duals is a bound (Lasdon's); when no chain prices out and
    no row is broken, the master's value is the LP of the relaxation with exact cycle rows and
    those capacity rows. ``solver``: HiGHS threads and seed. Stops at ``deadline``, on
    ``should_stop`` or after ``max_rounds``."""
    t0 = time.perf_counter()
    n_ct, n_b, P = dp.qty.size, dp.budget.size, dp.n_pledges
    n_rows = n_ct + n_b + P
    prob = MatrixProblem(
        cost=dp.c_u,
        col_lo=np.zeros(n_ct),
        col_hi=dp.qty,
        A=sp.csc_matrix((np.ones(n_ct), (np.arange(n_ct), np.arange(n_ct))), shape=(n_rows, n_ct)),
        row_lo=np.concatenate([dp.qty, np.full(n_b + P, -np.inf)]),
        row_hi=np.concatenate([np.full(n_ct, np.inf), dp.budget, dp.units]),
    )
    opts = SolverOptions(threads=solver[0], seed=solver[1], method=MASTER_METHOD, presolve=False)
    cm = _ChainMaster(dp, cap, HighsModel(prob, opts, should_stop=should_stop, deadline=deadline))
    best: float | None = None
    best_duals: tuple[np.ndarray, np.ndarray] | None = None
    center: _Point | None = None
    converged = False
    z = None
    lam = np.zeros(0)
    rc = None
    rounds = 0
    msg = "no master solved"
    while True:
        r = cm.hm.run()
        rounds += 1
        if r.outcome is not Outcome.OPTIMAL or r.row_duals is None or r.values is None:
            msg = f"chain master LP stopped ({r.outcome.value}) in round {rounds}"
            break
        z = float(r.objective or 0.0)
        lam = r.values[n_ct:]
        ev, pt, add = cm.price(r.row_duals, center)
        rc = ev.rc
        if best is None or ev.value > best:
            best, best_duals, center = ev.value, (pt.pi, pt.mu), pt
        new = np.zeros(dp.n_pledges, dtype=bool)
        new[dp.pledge[add]] = True
        n_new_rows = cm.add_rows(lam)
        if trace is not None:
            trace(
                f"chain master {rounds}: z {z:,.0f}, L {ev.value:,.0f}, {int(new.sum())} new chain(s), "
                f"{n_new_rows} new row(s) ({0 if cap is None else cap.n_rows} in all), {r.time:.1f} s"
            )
        if not new.any() and not n_new_rows:
            converged = True
            best = max(best, z)
            msg = f"pricing: no chain of negative reduced cost and no capacity row broken after {rounds} round(s)"
            break
        if (stop := stop_reason(rounds, deadline, should_stop, max_rounds)) is not None:
            msg = stop
            break
        if add.size:
            cm.add_chains(add)
    cols, values = _chain_values(dp, cm.tour_pos, lam)
    rc_full = None
    if rc is not None:
        rc_full = np.empty_like(rc)
        rc_full[dp.order] = rc
    return ChainResult(best, converged, z, cols, values, rc_full, best_duals, rounds, time.perf_counter() - t0, msg)


def _chain_values(dp: DualProblem, tour_cols: list[np.ndarray], lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The master's chains as Assign-count columns of the full set (sorted) with their LP
    values (the units of the chains through each; chains added after the last solve: 0)."""
    if not tour_cols:
        return np.zeros(0, np.int64), np.zeros(0)
    k = np.repeat(np.arange(len(tour_cols)), [c.size for c in tour_cols])
    lam_all = np.zeros(len(tour_cols))
    lam_all[: min(lam.size, lam_all.size)] = lam[: lam_all.size]
    cols, inv = np.unique(dp.order[np.concatenate(tour_cols)], return_inverse=True)
    return cols, np.bincount(inv, weights=lam_all[k], minlength=cols.size)
