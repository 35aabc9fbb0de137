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
from dataclasses import dataclass

import numpy as np

from coalition.planner.colgen import Relaxation


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


def dual_problem(rel: Relaxation) -> DualProblem:
    """L's data from the column-generation relaxation (its full column set, its cover rows and
    rotation budgets; its cycle rows are not used: each pledge's are kept exact instead)."""
    base = rel.base
    assert base is not None, "a Relaxation from colgen.relaxation"
    qty = base.col_hi[: rel.n_ct]
    c_u = base.cost[: rel.n_ct]
    budget = base.row_hi[2 * rel.n_ct + rel.n_ev :]
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


def reduced_costs(dp: DualProblem, pi: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """rc_j = c_j - sum of pi over the rows j covers + mu of its budget row (DualProblem order)."""
    cum = np.concatenate([[0.0], np.cumsum(pi)])
    rc = dp.cost - (cum[dp.row_last + 1] - cum[dp.row_first])
    if mu.size:
        has = dp.budget_row >= 0
        rc[has] += mu[dp.budget_row[has]]
    return rc


def evaluate(dp: DualProblem, pi: np.ndarray, mu: np.ndarray) -> Evaluation:
    """L(pi, mu) (a lower bound of the full model for any pi >= 0, mu >= 0) and a subgradient."""
    rc = reduced_costs(dp, pi, mu)
    best, cols = chain_solve(dp.pledge, dp.depart, dp.end, rc, dp.n_pledges)
    short = np.minimum(0.0, dp.c_u - pi)
    value = float(dp.qty @ pi + dp.qty @ short - dp.budget @ mu + dp.units @ best)
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
    return Evaluation(value, cols, g_pi, g_mu)


# the first Polyak step factor of the ascent (halved after ``patience`` rounds without progress)
STEP = 1.0


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
    patience: int = 10,
    trace: Callable[[int, float, float], None] | None = None,
) -> AscentResult:
    """Projected subgradient ascent on L from ``(pi0, mu0)`` (Polyak steps towards ``target``,
    an estimate of the best bound, e.g. a plan's objective; the step factor halves after
    ``patience`` rounds without progress). Stops at ``deadline`` or after ``max_iterations``.
    Every point evaluated gives a valid bound; the best is returned. ``pi`` stays in
    ``[0, c_u]`` (beyond ``c_u`` a multiplier can only lower L)."""
    t0 = time.perf_counter()
    pi = np.clip(pi0, 0.0, dp.c_u)
    mu = np.maximum(mu0, 0.0)
    ev = evaluate(dp, pi, mu)
    best = AscentResult(ev.value, pi.copy(), mu.copy(), 1, 0.0, dp.order[ev.columns])
    lam, stale, it = STEP, 0, 1
    while time.perf_counter() < deadline and (max_iterations is None or it < max_iterations):
        norm = float(ev.g_pi @ ev.g_pi + ev.g_mu @ ev.g_mu)
        if norm <= 0.0:
            break  # a zero subgradient: (pi, mu) maximises L
        t = lam * max(target - ev.value, 1e-9 * abs(target) + 1e-9) / norm
        pi = np.clip(pi + t * ev.g_pi, 0.0, dp.c_u)
        mu = np.maximum(mu + t * ev.g_mu, 0.0)
        ev = evaluate(dp, pi, mu)
        it += 1
        if trace is not None:
            trace(it, ev.value, lam)
        if ev.value > best.bound + 1e-9 * abs(best.bound):
            best = AscentResult(ev.value, pi.copy(), mu.copy(), it, 0.0, dp.order[ev.columns])
            stale = 0
        else:
            stale += 1
            if stale >= patience:
                lam, stale = lam / 2.0, 0
    best.iterations = it
    best.seconds = time.perf_counter() - t0
    return best
