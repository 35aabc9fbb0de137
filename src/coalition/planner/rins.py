"""Large models (M): the restricted master's neighbourhood and RINS rounds on it, then the
polish of the best plan (docs/planner/solver.md, *Restricted master and RINS*, *Polish*).

Called by :func:`coalition.planner.solver.mip_phase` for models over LARGE_COLUMNS and up to
MASTER_MAX_COLUMNS columns. Every plan kept is a plan of the full model (``_Solve.take`` checks
every row); the bounds of the restricted MIPs are never used.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from coalition.planner.model import FlowForm, flow_form, stock_values
from coalition.planner.solver import (
    MIP_OPTIONS,
    _keep_mask,
    _lp_rounding,
    _short_lines_columns,
    _Solve,
    _tighten,
    _violated,
)
from coalition.solvers.highs import HighsModel, MatrixProblem, RunResult, SolverOptions

# Large models: the restricted MIP's neighbourhood from a restricted master with every row
# (planner.master): MASTER_ROUNDS master LP(s) over the LP support, the incumbent and the extra
# columns, pricing MASTER_COLUMNS more; the master may use MASTER_SHARE of the time left.
# Measured on M seed 11 (load 14-18): the old neighbourhood's LP with every row was 82.6 M
# (the full LP 76.6 M); after one master and 6,000 priced columns, 76.8 M. A master stopped by
# the clock is thrown away, so it gets a large share: at 0.4, under load 9-16, the first master
# (seed 11) or the second (seeds 11, 14) ran out after 7-10 s; at 0.6 the first was solved.
MASTER_ROUNDS = 1
MASTER_COLUMNS = 6000
MASTER_SHARE = 0.6
# then RINS rounds on that neighbourhood (columns where the master LP and the best plan agree
# fixed), the first at most RINS_FIRST_SECONDS, the others RINS_SECONDS; none started with less
# than RINS_MIN_SECONDS left.
# Measured on M seed 11 (load 10): one 40 s RINS MIP from the master's rounded plan, 87.0 M ->
# 80.2 M; the whole neighbourhood in the same 40 s found nothing better than its start.
RINS_FIRST_SECONDS = 20.0  # round 0 (its MIP found the improvement after ~10 s at load 10)
RINS_SECONDS = 8.0  # later rounds (large-neighbourhood search by region)
RINS_MIN_SECONDS = 3.0
# A RINS MIP stops once its plan is within RINS_GAP of its own neighbourhood's bound: the rest
# of that neighbourhood can gain at most that much, and a new one (the next master's
# agreement, another region) more. Measured on M seed 11 (load 3): round 0 reached 0.88% of its
# own bound after 8 s and spent the next 11 s of its 20 s in strong branching for nothing.
RINS_GAP = 0.01
# After every improving RINS round and at the end: the polish (coalition.planner.polish) of the
# best plan, the completion over every column, and at the end drop-and-refill by region while
# at least POLISH_MIN_SECONDS are left.
# The RINS rounds end POLISH_RESERVE x the first master's completion time (a greedy pass like
# the polish's) before the deadline, so that the last completion runs (on M seeds 11, 13, 14,
# 15 a completion took 0.03-0.8 M off the RINS plan; a round run to the deadline left none).
POLISH = True
POLISH_MIN_SECONDS = 1.0
POLISH_RESERVE = 1.5
# Only the first master's LP is rounded (nearest + repair, floor + completion: 1.5-2.5 s under
# load); a later one's rounding never beat the RINS plan it follows (M seed 11).
ROUND_FIRST_MASTER_ONLY = True
# after RINS round 0, another master (from its neighbourhood) when this much is left. Measured
# on M seed 11 (load 8): round 1 (the short lines freed) never improved in its 8 s, presolve
# alone took 4.5 s; the second master's agreement round took the plan 82.6 M -> 80.2 M.
MASTER_AGAIN_SECONDS = 12.0
MASTER_AGAIN_AFTER = 1  # RINS rounds before the next master
# After every master: RENS on its LP solution (every row; only the master's LP support, each
# column between the floor and the ceiling of its LP value), at most RENS_SECONDS, stopped at
# RINS_GAP of its own bound. A plan near the new LP even when the best plan is far from it
# (RINS round 0 only frees where the two disagree). Measured offline on M seeds 11 and 13 (the
# master LP of a 600 s run, load 9): 82.6 M and 112.5 M in 3.3 and 2.4 CPU s, from a floor
# rounding of 182 M and 194 M; the LP support has ~800 columns, ~500 of them fractional.
RENS = True
RENS_SECONDS = 10.0
# ...and RENS_EXTRA x as many more columns as the support has: those outside it of smallest
# reduced cost at the master's duals, each free within its bounds (the support alone can be far
# from the LP: seed 11's RENS bound was 81.8 M against its LP's 76.7 M). Measured at 60 s, the
# two settings side by side (load 6-8): extra 1 against 0, seed 11 6.66% / 6.50%, 12 3.60 /
# 4.17, 13 10.29 / 12.15, 14 4.20 / 5.02% (one run each).
RENS_EXTRA = 1.0
# RINS and RENS sub-MIPs reach HiGHS with their fixed columns substituted out (without_fixed).
WITHOUT_FIXED = True


def _reserve(st: _Solve) -> float:
    """Seconds a RINS, RENS or master phase keeps back for the last polish's completion (as
    long as the first master's took, POLISH_RESERVE x); the phase log adds the latency reserve."""
    return POLISH_RESERVE * st.completion_s


def master_neighbourhood(
    st: _Solve,
    keep0: np.ndarray | None = None,
    ff: FlowForm | None = None,
) -> tuple[np.ndarray, np.ndarray, FlowForm, np.ndarray | None] | None:
    """Large models: the restricted master with every row (:mod:`coalition.planner.master`)
    over :func:`_keep_mask`'s columns and the columns its duals price negative: the capacity
    rows' own alternatives, which the LP without them cannot see. Its LP solution
    (capacity-feasible) is rounded, the first master's only (to the nearest, then repaired;
    rounded down, then completed); its Lagrangian bound is kept when higher (a bound of the full model). Returns
    the neighbourhood (bool per Assign-count column), the master's Assign-count values, the
    solver form with every row and the reduced costs of every Assign-count column at the
    master's duals, or None when no master was solved in time. ``keep0`` and
    ``ff``: a later master, from an earlier one's neighbourhood and solver form."""
    from coalition.planner.greedy import greedy_values, repair
    from coalition.planner.master import MasterOptions, solve_master

    m = st.model
    keep0 = _keep_mask(st) if keep0 is None else keep0
    if keep0 is None:
        return None
    if ff is None:
        ff = flow_form(m)  # every row
        _tighten(st, ff)
    link = m.con("Hub-nation-link")
    lp_rows = np.flatnonzero((ff.row_origin < link.start) | (ff.row_origin >= link.stop))
    until = time.perf_counter() + MASTER_SHARE * max(0.0, st.log.left(_reserve(st)))
    master = MasterOptions(
        threads=int(st.options.threads),
        seed=int(st.options.seed),
        max_rounds=MASTER_ROUNDS,
        round_columns=MASTER_COLUMNS,
    )
    first = st.masters == 0
    with st.log.phase(f"master-{st.masters + 1}", until):
        res = solve_master(
            m,
            ff,
            keep0,
            deadline=until,
            options=master,
            should_stop=st.should_stop,
            lp_rows=lp_rows,
        )
    st.masters += res.rounds
    st.master_converged = res.converged
    st.master_message = (
        f"{st.masters} master LP(s), the last {res.objective:,.0f} over {int(res.keep.sum()):,} columns; {res.message}"
        if res.objective is not None
        else (f"{st.master_message}; the next {res.message}" if st.master_message else res.message)
    )
    if res.core is None:
        return None
    if st.full_model and res.bound is not None and (st.bound is None or res.bound > st.bound):
        st.bound, st.provenance = res.bound, ("full-lp" if res.converged else "full-lagrangian")
    xb = m.var("Assign-count")
    pref = res.core[xb.start : xb.stop]
    end = st.log.until()
    if (first or not ROUND_FIRST_MASTER_ONLY) and time.perf_counter() < end:
        with st.log.phase("master-rounding", end):
            near = np.zeros(m.n_cols)
            near[xb.start : xb.stop] = np.round(pref)
            st.take(repair(m, near, deadline=end))
            if time.perf_counter() < end:
                t = time.perf_counter()
                st.take(greedy_values(m, initial=res.core, preference=pref, deadline=end))
                st.completion_s = max(st.completion_s, time.perf_counter() - t)
    st.show(None, st.bound)
    keep = res.keep
    if st.best is not None:
        keep = keep | (st.best[xb.start : xb.stop] > 0.5)
    return keep, pref, ff, res.rc


def _rins_fixed(st: _Solve, keep: np.ndarray, lp_x: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """The Assign-count columns of ``keep`` fixed to the best plan's values in RINS round
    ``st.rins_round``: round 0 fixes where the master LP agrees with the best plan (integral
    and equal); round 1 the same but frees the lines the best plan leaves short; later rounds
    (large-neighbourhood search by region) free every column at the hubs of one region and the
    short lines' columns, and fix all others. ``ref`` (Assign-count values): the plan the
    agreement of rounds 0 and 1 is taken with instead of the best plan - the best plan before
    RENS, whose plan agrees with the LP wherever the LP is integral (so that agreement would
    free only what RENS already searched)."""
    m = st.model
    xb = m.var("Assign-count")
    assert st.best is not None
    bx = st.best[xb.start : xb.stop] if ref is None or st.rins_round > 1 else ref
    near = np.round(lp_x)
    agree: NDArray[np.bool_] = keep & (np.abs(lp_x - near) < 1e-6) & (np.abs(near - bx) < 0.5)
    if st.rins_round == 0:
        return agree
    short = _short_lines_columns(st)
    if st.rins_round == 1:
        unshort: NDArray[np.bool_] = agree & ~short
        return unshort
    tb = m.tables
    regions = sorted(set(tb.hub_region))
    region = regions[(st.rins_round - 2) % len(regions)]
    hub_in = np.array([r == region for r in tb.hub_region], dtype=bool)
    free = hub_in[tb.arc_hub[m.x_arc]] | short
    fixed: NDArray[np.bool_] = keep & ~free
    return fixed


def _rins_rounds(st: _Solve) -> int:
    """Rounds without improvement after which RINS stops: both agreement rounds and one round
    per region."""
    return 2 + len(set(st.model.tables.hub_region))


def _sub_mip_pass(st: _Solve, keep: np.ndarray, ff: FlowForm, until: float, fixed: np.ndarray | None = None) -> bool:
    """The restricted MIP over ``keep``'s Assign-count columns only (``fixed`` of them at the
    best plan's values), in its own HiGHS instance with every row of the full model (so its
    plans are plans of the full model and presolve sees a small model); its bound is never
    kept. True when it improved the best plan."""
    from coalition.planner.greedy import repair

    with st.log.phase(f"rins-{st.rins_round}", until):
        plan = _sub_mip_plan(st, keep, ff, until, fixed)
    if plan is None:
        return False
    if _violated(st.model, plan, np.zeros(st.model.n_rows, bool)).size:
        plan = repair(st.model, plan, deadline=st.log.until())  # numerically off after rounding: made feasible
    before = st.best_obj
    st.take(plan)
    return st.best_obj < before - 1e-6


def _sub_mip_plan(
    st: _Solve, keep: np.ndarray, ff: FlowForm, until: float, fixed: np.ndarray | None
) -> np.ndarray | None:
    """The RINS MIP of :func:`_sub_mip_pass`, run until ``until``: its plan (model columns,
    integers rounded), or None."""
    from coalition.planner.master import restricted

    m = st.model
    xb = m.var("Assign-count")
    st.restricted, st.phase = True, "restricted-mip"
    sub = restricted(ff, m, keep, np.arange(ff.lo.size), integer=True)
    prob = sub.problem
    if fixed is not None and st.best is not None and fixed.any():
        pos = np.searchsorted(sub.cols, xb.start + np.flatnonzero(fixed))
        lo, hi = prob.col_lo.copy(), prob.col_hi.copy()
        lo[pos] = hi[pos] = st.best[xb.start + np.flatnonzero(fixed)]
        prob = MatrixProblem(
            cost=prob.cost, col_lo=lo, col_hi=hi, A=prob.A, row_lo=prob.row_lo, row_hi=prob.row_hi, integer=prob.integer
        )
    hm = _SubMip(st, prob, until)
    st.active[:] = True  # every row is in this MIP
    if st.best is not None:
        hm.set_start(stock_values(m, ff, st.best)[sub.cols])
    r, values = hm.run(time_limit=max(0.01, until - time.perf_counter()))
    st.mip_rounds += 1
    st.nodes += r.nodes
    st.last_outcome = r.outcome
    if values is None:
        return None
    full = np.zeros(ff.clo.size)
    full[sub.cols] = values
    assert m.integer is not None  # the model is finalized
    out: np.ndarray = np.where(m.integer, np.round(full[: m.n_cols]), full[: m.n_cols])
    return out


def rens_problem(
    st: _Solve, ff: FlowForm, lp_x: np.ndarray, rc: np.ndarray | None = None
) -> tuple[MatrixProblem, np.ndarray]:
    """The RENS sub-MIP of the LP values ``lp_x`` (per Assign-count column): every row of
    ``ff``, the Assign-count columns of the LP's support, each bounded by the floor and the
    ceiling of its LP value, and (with reduced costs ``rc``) RENS_EXTRA x as many others of
    smallest reduced cost, within their bounds; every other column as in ``ff``. Returns the
    problem and its solver columns (:func:`coalition.planner.master.restricted`)."""
    from coalition.planner.master import restricted

    m = st.model
    xb = m.var("Assign-count")
    support = lp_x > 1e-6
    cols_x = support.copy()
    if rc is not None and RENS_EXTRA > 0:
        r = np.where(support | ~np.isfinite(rc), np.inf, rc)
        idx = np.argsort(r, kind="stable")[: int(RENS_EXTRA * support.sum())]
        cols_x[idx[np.isfinite(r[idx])]] = True
    sub = restricted(ff, m, cols_x, np.arange(ff.lo.size), integer=True)
    p = sub.problem
    pos = np.searchsorted(sub.cols, xb.start + np.flatnonzero(support))
    lo, hi = p.col_lo.copy(), p.col_hi.copy()
    v = lp_x[support]
    lo[pos] = np.minimum(np.floor(v + 1e-6), hi[pos])
    hi[pos] = np.maximum(lo[pos], np.minimum(hi[pos], np.ceil(v - 1e-6)))
    prob = MatrixProblem(cost=p.cost, col_lo=lo, col_hi=hi, A=p.A, row_lo=p.row_lo, row_hi=p.row_hi, integer=p.integer)
    return prob, sub.cols


def without_fixed(prob: MatrixProblem) -> tuple[MatrixProblem, np.ndarray, np.ndarray]:
    """``prob`` with its fixed columns (``col_lo == col_hi``) substituted out before HiGHS sees
    it: their activity moved into the row bounds, their cost into the objective offset, and the
    rows left without a free column dropped (a RINS round fixes ~95% of its columns, and HiGHS's
    presolve - most of a short sub-MIP's time under load, and not interruptible between its
    checks - then starts from the free part). A dropped row holds at the fixed values when
    they come from a plan; every plan is checked row by row anyway (``_Solve.take``). Returns
    the problem, its columns' indices in ``prob`` and the values of every column of ``prob``
    at the fixed ones (0 elsewhere)."""
    fixed = prob.col_lo == prob.col_hi
    base = np.where(fixed, prob.col_lo, 0.0)
    free = np.flatnonzero(~fixed)
    if free.size == fixed.size:
        return prob, free, base
    A = prob.A.tocsc()
    act = A @ base
    Af = A[:, free].tocsr()
    rows = np.flatnonzero(np.diff(Af.indptr) > 0)
    sub = MatrixProblem(
        cost=prob.cost[free],
        col_lo=prob.col_lo[free],
        col_hi=prob.col_hi[free],
        A=Af[rows].tocsc(),
        row_lo=prob.row_lo[rows] - act[rows],
        row_hi=prob.row_hi[rows] - act[rows],
        integer=None if prob.integer is None else prob.integer[free],
        maximize=prob.maximize,
        offset=prob.offset + float(prob.cost @ base),
    )
    return sub, free, base


class _SubMip:
    """A RINS or RENS sub-MIP in HiGHS with its fixed columns substituted out
    (:func:`without_fixed`); starts and values in the columns of the problem given."""

    def __init__(self, st: _Solve, prob: MatrixProblem, until: float) -> None:
        self.free: np.ndarray = np.arange(prob.cost.size)
        self.base: np.ndarray | None = None
        small = prob
        if WITHOUT_FIXED:
            small, self.free, self.base = without_fixed(prob)
        self.hm = _sub_mip_model(st, small, until)

    def set_start(self, values: np.ndarray) -> None:
        self.hm.set_start(values[self.free])

    def run(self, time_limit: float) -> tuple[RunResult, np.ndarray | None]:
        r = self.hm.run(time_limit=time_limit)
        if r.values is None:
            return r, None
        out = np.zeros(self.free.size) if self.base is None else self.base.copy()
        out[self.free] = r.values
        return r, out


def _sub_mip_model(st: _Solve, prob: MatrixProblem, until: float) -> HighsModel:
    """A HiGHS model of a RINS or RENS sub-MIP: the plan's options at the neighbourhood's gap,
    the solve's progress and stop, the phase's deadline ``until`` (checked in HiGHS's interrupt
    callbacks: the kill switch), and MIP_OPTIONS."""
    o = st.options
    hm = HighsModel(
        prob,
        SolverOptions(mip_rel_gap=max(float(o.mip_rel_gap), RINS_GAP), threads=int(o.threads), seed=int(o.seed)),
        on_report=st.on_report,
        should_stop=st.should_stop,
        deadline=min(until, st.deadline),
    )
    for name, value in MIP_OPTIONS.items():
        hm.set_option(name, value)
    return hm


def _rens(st: _Solve, ff: FlowForm, lp_x: np.ndarray, rc: np.ndarray | None = None) -> np.ndarray | None:
    """RENS (relaxation enforced neighbourhood search) on a master's LP solution, at most
    RENS_SECONDS (:func:`rens_problem`; its bound is never kept). Its plan - a plan of the full
    model, checked row by row - is kept when it beats the best, then polished. The floor of the
    LP values, completed by the shortfall it implies, is its start when it keeps every row.
    Returns the best plan's Assign-count values before RENS when RENS improved it (the
    reference of the next RINS rounds' agreement, :func:`_rins_fixed`), else None."""
    from coalition.planner.engine import recompute
    from coalition.planner.greedy import repair

    m = st.model
    xb = m.var("Assign-count")
    if not RENS or st.stopped() or st.best is None:
        return None
    left = st.log.left(_reserve(st))
    if left < RINS_MIN_SECONDS:
        return None
    ref = st.best[xb.start : xb.stop].copy()
    # HiGHS gets RENS_SECONDS from its own start (building the neighbourhood is not counted
    # against them), never past the time left
    end = time.perf_counter() + left
    with st.log.phase("rens-build", end):
        prob, cols = rens_problem(st, ff, lp_x, rc)
        st.restricted, st.phase = True, "restricted-mip"
        hm = _SubMip(st, prob, end)
        floor = np.zeros(m.n_cols)
        floor[xb.start : xb.stop] = np.floor(lp_x + 1e-6)
        floor = recompute(m, floor)
        if not _violated(m, floor, np.zeros(m.n_rows, bool)).size:
            hm.set_start(stock_values(m, ff, floor)[cols])
    until = min(time.perf_counter() + RENS_SECONDS, end)
    hm.hm.deadline = min(until, st.deadline)
    with st.log.phase("rens", until):
        r, values = hm.run(time_limit=max(0.01, until - time.perf_counter()))
    st.mip_rounds += 1
    st.nodes += r.nodes
    st.last_outcome = r.outcome
    st.rens_runs += 1
    if values is None:
        return None
    full = np.zeros(ff.clo.size)
    full[cols] = values
    assert m.integer is not None  # the model is finalized
    plan = np.where(m.integer, np.round(full[: m.n_cols]), full[: m.n_cols])
    if _violated(m, plan, np.zeros(m.n_rows, bool)).size:
        plan = repair(m, plan, deadline=st.log.until())  # numerically off after rounding: made feasible
    before = st.best_obj
    st.take(plan)
    if st.best_obj < before - 1e-6:
        st.rens_gain += before - st.best_obj
        _polish(st, lp_x)
        return ref
    return None


def large_mip(st: _Solve) -> bool:
    """Large models: the master's neighbourhood, then RINS rounds (:func:`_rins_fixed`) on it,
    after round 0 the next master's, until the time is up or :func:`_rins_rounds` rounds in a
    row found nothing better; the best plan polished (:func:`_polish`) after every improving
    round and at the end. False when no master was solved (the caller then runs the older
    restricted pass)."""
    nb = master_neighbourhood(st)
    if nb is None or st.stopped():
        _lp_rounding(st)  # no master in time: the LP's own rounding, then the older pass
        return False
    keep, lp_x, ff, rc = nb
    xb = st.model.var("Assign-count")
    ref = _rens(st, ff, lp_x, rc)
    stale = 0
    while not st.stopped() and st.best is not None:
        # the last polish's completion keeps its time (as long as the rounding's took), and
        # the phase log twice the largest overrun seen (budget.PhaseLog.until)
        left = st.log.left(_reserve(st))
        if left < RINS_MIN_SECONDS:
            break
        if st.rins_round == MASTER_AGAIN_AFTER and not st.master_converged and left >= MASTER_AGAIN_SECONDS:
            # after the two agreement rounds: the next master from this neighbourhood (a
            # better LP, a new agreement with the best plan), and its agreement rounds
            nb = master_neighbourhood(st, keep, ff)
            if nb is not None:
                keep, lp_x, ff, rc = nb
                ref = _rens(st, ff, lp_x, rc)
                st.rins_round, stale = 0, 0
                continue
        cap = RINS_FIRST_SECONDS if st.rins_round == 0 else RINS_SECONDS
        # the columns the best plan uses are always in the MIP (a polish may have added some)
        keep = keep | (st.best[xb.start : xb.stop] > 0.5)
        improved = _sub_mip_pass(
            st, keep, ff, time.perf_counter() + min(left, cap), fixed=_rins_fixed(st, keep, lp_x, ref)
        )
        st.rins_round += 1
        stale = 0 if improved else stale + 1
        if improved:
            _polish(st, lp_x)
        if stale >= _rins_rounds(st):
            break
    # (no MIP over the whole of K with the time left: measured on seed 11 it found nothing in
    # 40 s, and its presolve - 19-40 s under load - does not stop at the deadline)
    _polish(st, lp_x, refill=True)
    return True


def _polish(st: _Solve, lp_x: np.ndarray, refill: bool = False) -> None:
    """The polish of the best plan (:mod:`coalition.planner.polish`, the master's LP values as
    the preference): the completion over every Assign-count column; with ``refill``,
    drop-and-refill by region while time is left. Kept only when better (``_Solve.take``)."""
    from coalition.planner import polish

    end = st.log.until()
    if not POLISH or st.best is None or st.stopped() or time.perf_counter() >= end:
        return
    m = st.model
    before = st.best_obj
    with st.log.phase("polish", end):
        res = polish.complete(m, st.best, lp_x, deadline=end)
        st.take(res.values)
        if refill and end - time.perf_counter() >= POLISH_MIN_SECONDS and not st.stopped():
            groups = polish.region_groups(m, st.best, lp_x)
            more = polish.drop_refill(m, st.best, groups, lp_x, deadline=end)
            st.take(more.values)
            res.tried, res.kept = res.tried + more.tried, res.kept + more.kept
    st.polish_tried += res.tried
    st.polish_gain += max(0.0, before - st.best_obj)
