"""The planner's solve: a model in, a typed :class:`SolveResult` and values out.

It runs in phases over the typed HiGHS wrapper (:mod:`coalition.solvers.highs`; nothing here
calls ``highspy`` directly): the LP relaxation with row generation (:func:`lp_phase`), LP-guided
rounding (:func:`rounding_phase`), a restricted MIP around the LP solution and the full MIP
(:func:`mip_phase`), then the result (:func:`result_of`). Large models up to
MASTER_MAX_COLUMNS (M) plan instead on a restricted master with every row and RINS rounds on
its neighbourhood (:mod:`coalition.planner.rins`, :mod:`coalition.planner.master`). Optimal, feasible-with-gap, time
limit, interrupted and infeasible are all *results*. Only bounds of the full model are ever
reported (LP bound or the full MIP's dual bound, ``bound_provenance``). Determinism: HiGHS runs
with a fixed ``random_seed`` and thread count, so the same model and seed give the same plan.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from coalition.planner.budget import PhaseLog, PhaseRecord
from coalition.planner.model import FlowForm, Model, flow_form, stock_values
from coalition.planner.schemas import PlanOptions, Progress, SolveResult, SolveStatus
from coalition.solvers.highs import (
    HighsModel,
    LpBasis,
    MatrixProblem,
    Outcome,
    Report,
    RunResult,
    SolverOptions,
    relative_gap,
)

ProgressFn = Callable[[Progress], None]


@dataclass(slots=True)
class Solution:
    result: SolveResult
    values: np.ndarray | None  # column values (length n_cols) when a plan exists
    # the first LP's optimal basis (solve_highs(lp_basis=...) starts a model of the same shape
    # and rows from it); None unless that LP was solved to optimality in one round
    lp_basis: LpBasis | None = None
    # every phase of the solve: its deadline and when it ended (coalition.planner.budget)
    phases: tuple[PhaseRecord, ...] = ()


LARGE_COLUMNS = 20_000
# Share of the solver's time the LP's row generation may use before the rounding and the MIP.
LP_SHARE = 0.5
# Large models: one LP round without the capacity rows (already a valid bound, measured on M
# within 1% of the LP with them), then every capacity row goes to the restricted MIP.
LARGE_ONE_LP_ROUND = True
# ...except on the restricted-master path (M): one more LP, with the capacity rows the first
# LP's plan breaks, on a fresh presolved instance (a warm re-solve of the first instance with
# those rows added took 78 s under load 8, the fresh one 5.6 s), until SECOND_LP_SHARE of the
# solver's time. Measured on M (load 7-9): seed 13, the LP bound 103.15 M -> 106.43 M with 893
# rows added (the LP with every capacity row: 106.50 M), 2.8 CPU s; seed 15, 87.80 M -> 90.25 M
# with 1,019 rows, 11.6 CPU s; seeds 11, 12, 14 (720-981 rows) did not finish within 15-17 s
# of wall time at that load (their LP without capacity rows is within 0.3-0.8% of the master's).
LARGE_SECOND_LP = True
SECOND_LP_SHARE = 0.3
MIP_SHARE_LARGE = 0.7
LAZY_FAMILIES = ("Hub-personnel-capacity", "Corridor-personnel-capacity", "Corridor-tonnage-capacity")
TOL = 1e-6


STOP_SECONDS_PER_COLUMN = 8e-5
# The restricted MIP keeps the LP support, the incumbent, and RESTRICTED_EXTRA x that many more
# Assign-count columns: those with the smallest LP reduced cost. Measured on M (60 s, seed 1):
# extra 0 -> 1.134% gap, 0.3 -> 1.082%, 1 -> 1.043%, 1.5 -> 0.965% (below 1% after 26 s of MIP),
# 2 -> 1.001%, 2.5 -> 0.962% (after 34 s of MIP), 3 and 4 -> worse (a larger MIP is searched
# more slowly); LP support alone (no incumbent) -> 1.70%. One run each; HiGHS runs single-
# threaded with a fixed seed, so the search path is repeatable and only its speed varies.
RESTRICTED_EXTRA = 1.5
# Large models: a second restricted pass around the best plan with the time the first left
# (at least SECOND_PASS_MIN_S seconds).
SECOND_PASS = True
SECOND_PASS_MIN_S = 5.0
# Large models up to MASTER_MAX_COLUMNS columns (M) plan on a restricted master with every row
# and RINS rounds on its neighbourhood (coalition.planner.rins, its constants there).
MASTER_NEIGHBOURHOOD = True
MASTER_MAX_COLUMNS = 150_000
# Restricted models after column generation: the chain master's LP solution is the LP plan
# (lp_phase); the LP over L's restricted model did not finish in 256 s (quiet machine).
COLGEN_LP_PLAN = True
# HiGHS options of the MIP passes (beyond presolve and the method).
MIP_OPTIONS: dict[str, bool | int | float | str] = {}
# Small models: the restricted MIP is only a heuristic (its own bound is never kept), so it
# searches its neighbourhood to this share of the target gap; with the better plan the target
# gap is often proven against the full model's LP bound and the full MIP is not needed.
# Measured on 24 analysis worlds of option `small` (LHS seed 1, gap 1 %): the restricted MIP
# stopping at 1 % of its own bound left 3 worlds 1.0-1.1 % above the LP bound, each then paid
# ~10 s of full MIP (three rounds of presolve + root); at 0.1 x the target every world was
# proven after the restricted pass: 37 -> 7.5 CPU s in all, plans within 0.001 % of the full
# MIP's. Large models keep the target gap (their restricted pass is the last one).
RESTRICTED_GAP_SHARE = 0.1
# ...unless every row is in that MIP (no row withheld: solve_highs(withhold=False), as the
# scenario analysis solves): then its incumbents are plans of the full model, and one within
# the target gap of the full model's LP bound ends the solve. Measured on 12 worlds of `small`
# (docs/analysis-benchmarks.md).
STOP_AT_TARGET = True
# ...and that restricted pass runs on an instance holding only its own columns (_PassInstance).
COMPACT_RESTRICTED = True


def stop_margin(n_cols: int, time_limit: float) -> float:
    """Seconds before ``time_limit`` at which HiGHS is told to stop, so that the solve (stop
    latency + copying and checking the best plan) ends within the limit. Measured: the L
    instance (~507k columns) overran a 600 s limit by 6.2 s when stopped at the limit; on the
    day-exact model under heavy machine load M (~62k columns, every capacity row in the
    restricted MIP) overran by 1.4 s with 2e-5 s per column; with 4e-5 s per column (M: 2.6 s)
    one of five M seeds still ended its whole plan 3.5 s after a 60 s limit at load 13 (HiGHS
    returned ~6 s after it was told to stop); 8e-5 s per column (M: 5.3 s), at most a tenth of
    the limit."""
    return min(STOP_SECONDS_PER_COLUMN * n_cols, 0.1 * time_limit)


def _violated(model: Model, core: np.ndarray, active: np.ndarray, only: np.ndarray | None = None) -> np.ndarray:
    """Rows not yet passed to the solver (restricted to ``only`` if given) that ``core`` breaks."""
    assert model.A is not None and model.hi is not None and model.lo is not None
    act = model.A @ core
    bad = ((act > model.hi + TOL) | (act < model.lo - TOL)) & ~active
    if only is not None:
        bad &= only
    return np.flatnonzero(bad)


@dataclass(slots=True)
class _Solve:
    """State shared by the phases of one solve."""

    model: Model
    options: PlanOptions
    progress: ProgressFn | None
    should_stop: Callable[[], bool] | None
    t0: float
    deadline: float
    lazy: np.ndarray
    deferred: np.ndarray
    active: np.ndarray
    large: bool
    full_model: bool
    ff: FlowForm | None = None
    hm: HighsModel | None = None
    A_csr: sp.csr_matrix | None = None  # the model's rows, for adding withheld ones
    phase: str = "lp"
    restricted: bool = False
    # LP phase
    lp: RunResult | None = None
    core: np.ndarray | None = None  # LP solution (model columns)
    lp_rounds: int = 0
    lp_ran_out: bool = False
    lp_partial: bool = False  # row generation stopped with rows still withheld
    t_lp: float = 0.0
    t_round: float = 0.0
    # bounds and plans
    bound: float | None = None
    provenance: str = "none"
    best: np.ndarray | None = None
    best_obj: float = float("inf")
    last_outcome: Outcome | None = None
    mip_rounds: int = 0
    nodes: int = 0
    proven: bool = False
    early_stop: bool = False  # the full MIP stopped once its repaired plan met the target
    dual_proven: bool = False  # the full MIP stopped once its dual bound proved the best plan
    # the restricted MIP (with every row of the model in it) stopped once its incumbent met the
    # target gap against the full model's bound (see _mip_pass)
    target_met: bool = False
    stop_at_target: bool = False
    master_message: str = ""  # large models: how the restricted master ended
    rins_round: int = 0
    masters: int = 0  # restricted master LPs solved
    master_converged: bool = False
    implied_ub: np.ndarray | None = None  # column upper bounds the capacity rows imply
    completion_s: float = 0.0  # how long the first master's greedy completion took
    polish_tried: int = 0  # large models: polish moves tried (coalition.planner.polish)
    polish_gain: float = 0.0  # and the objective they took off the best plan
    rens_runs: int = 0  # large models: RENS MIPs on a master's LP (coalition.planner.rins)
    rens_gain: float = 0.0  # and the objective they took off the best plan
    lp_basis_in: LpBasis | None = None  # a basis to start the first LP from (solve_highs)
    lp_warm: bool = False  # the first LP started from it
    lp_basis_out: LpBasis | None = None  # the first LP's optimal basis (one round only)
    log: PhaseLog = dataclasses.field(default_factory=PhaseLog)  # phases and their deadlines

    def __post_init__(self) -> None:
        self.log.t0, self.log.deadline = self.t0, self.deadline

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def stopped(self) -> bool:
        return self.should_stop is not None and self.should_stop()

    def take(self, plan: np.ndarray) -> None:
        """Keep ``plan`` if it satisfies every row and column bound and beats the best so far
        (a start handed in, e.g. another world's plan, is checked like any other plan)."""
        m = self.model
        assert m.clo is not None and m.chi is not None
        if np.any(plan < m.clo - TOL) or np.any(plan > m.chi + TOL):
            return
        if _violated(m, plan, np.zeros(m.n_rows, bool)).size:
            return
        obj = float(m.cost @ plan)
        if self.best is None or obj < self.best_obj - 1e-9:
            self.best, self.best_obj = plan, obj

    def show(self, incumbent: float | None, bound: float | None, nodes: int = 0) -> None:
        if self.progress is None:
            return
        if incumbent is not None and self.best is not None:
            incumbent = min(incumbent, self.best_obj)
        elif self.best is not None:
            incumbent = self.best_obj
        if incumbent is not None and bound is not None:
            bound = min(bound, incumbent)
        self.progress(
            Progress(
                time=round(self.now(), 3),
                incumbent=incumbent,
                bound=bound,
                gap=relative_gap(incumbent, bound),
                nodes=nodes,
            )
        )

    def on_report(self, r: Report) -> None:
        """Live MIP reports: the bound shown is only ever a bound of the FULL model (the LP
        bound, or the full MIP's dual bound); a restricted MIP's own bound is never shown."""
        b = self.bound
        if (
            self.restricted
            and self.stop_at_target
            and r.incumbent is not None
            and b is not None
            and (relative_gap(r.incumbent, b) or 0.0) <= self.options.mip_rel_gap
        ):
            self.target_met = True  # checked again on the plan itself when HiGHS returns
        if not self.restricted and self.full_model and r.bound is not None:
            b = r.bound if b is None else max(b, r.bound)
            if self.best is not None and (relative_gap(self.best_obj, b) or 0.0) <= self.options.mip_rel_gap:
                # the full MIP's dual bound proves the best plan (found by an earlier pass, so
                # HiGHS, which runs without a start here, does not know it): stop it
                self.dual_proven = True
        self.show(r.incumbent, b, r.nodes)

    def halt(self) -> bool:
        """HiGHS's stop test: the user's stop, or the best plan proven by the full MIP."""
        return self.stopped() or self.dual_proven or self.target_met


def _problem(ff: FlowForm, integer: bool) -> MatrixProblem:
    return MatrixProblem(
        cost=ff.cost,
        col_lo=ff.clo,
        col_hi=ff.chi,
        A=ff.A,
        row_lo=ff.lo,
        row_hi=ff.hi,
        integer=ff.integer if integer else None,
    )


def _instance(st: _Solve, integer: bool, prebuilt: FlowForm | None = None) -> HighsModel:
    """A fresh HiGHS instance holding the solver form with the rows active now. (Re-using one
    instance for a second MIP after bound changes returned a stale solution in highspy 1.16,
    so every full MIP pass gets its own.)"""
    ff = prebuilt if prebuilt is not None else flow_form(st.model, include=st.active)
    _tighten(st, ff)
    st.ff = ff
    o = st.options
    return HighsModel(
        _problem(ff, integer),
        SolverOptions(
            mip_rel_gap=float(o.mip_rel_gap),
            threads=int(o.threads),
            seed=int(o.seed),
            method="simplex" if not integer else "choose",
        ),
        on_report=st.on_report,
        should_stop=st.halt,
        deadline=st.deadline,
    )


def _tighten(st: _Solve, ff: FlowForm) -> None:
    """The Assign-count upper bounds implied by the capacity rows
    (:func:`coalition.planner.master.implied_upper_bounds`), in the solver form."""
    from coalition.planner.master import implied_upper_bounds

    if st.model.n_cols > MASTER_MAX_COLUMNS:
        return  # L's restricted model: its bound comes from column generation; not re-measured
    if st.implied_ub is None:
        st.implied_ub = implied_upper_bounds(st.model)
    ff.chi[: st.model.n_cols] = np.minimum(ff.chi[: st.model.n_cols], st.implied_ub)


def _add_rows(st: _Solve, rows: np.ndarray) -> None:
    m = st.model
    assert m.A is not None and m.lo is not None and m.hi is not None and st.hm is not None
    assert st.A_csr is not None
    st.hm.add_rows(st.A_csr[rows], m.lo[rows], m.hi[rows])
    st.active[rows] = True


def lp_phase(st: _Solve) -> None:
    """The LP relaxation. Small models: row generation with the dual simplex (capacity rows
    withheld until an LP solution breaks them). Large models: every row at once, interior
    point. Any LP optimum is a valid lower bound of the full model: withheld rows and the
    cohesion links left out only relax it."""
    m = st.model
    n_core = m.n_cols
    if st.large and m.x_preference is not None and COLGEN_LP_PLAN:
        # a restricted model after column generation: the chain master's LP solution (the LP of
        # the same relaxation, over the full column set) is the LP plan; the bound is column
        # generation's (model.full_bound). Its capacity rows are not in it: repaired when rounded.
        st.core = np.zeros(n_core)
        xb = m.var("Assign-count")
        st.core[xb.start : xb.stop] = m.x_preference
        st.lp_partial = True
        st.t_lp = st.now()
        return
    # row generation may take at most LP_SHARE of the solver's time; every round's LP value is
    # a valid bound, and the rounding repairs an LP plan that still breaks withheld rows
    lp_until = st.t0 + LP_SHARE * (st.deadline - st.t0)
    second_until = st.t0 + SECOND_LP_SHARE * (st.deadline - st.t0)
    if st.lp_basis_in is not None and st.hm is not None:
        # only bounds differ from the LP the basis came from: the dual simplex starts there
        st.lp_warm = st.hm.set_basis(st.lp_basis_in)
    while True:
        assert st.hm is not None  # set by solve before the LP phase
        second = st.large and st.lp_rounds > 0  # the M path's second LP (LARGE_SECOND_LP)
        until = min(lp_until, second_until) if second else st.deadline
        with st.log.phase(f"lp-{st.lp_rounds}", until):
            r = st.hm.run(time_limit=max(0.01, until - time.perf_counter()) if second else None)
        st.lp_rounds += 1
        if second and (r.outcome is not Outcome.OPTIMAL or r.values is None):
            st.lp_partial = True  # the first LP's solution and bound stand (valid, weaker)
            break
        st.lp = r
        if r.outcome is not Outcome.OPTIMAL or r.values is None:
            st.lp_ran_out = True
            break
        st.core = r.values[:n_core]
        if st.full_model:
            st.bound, st.provenance = r.objective, "full-lp"
        st.show(None, st.bound)
        bad = _violated(m, st.core, st.active, only=st.lazy)
        if bad.size == 0:
            if st.lp_rounds == 1:
                st.lp_basis_out = st.hm.basis()
            break
        if time.perf_counter() >= lp_until or (st.large and LARGE_ONE_LP_ROUND and not _second_lp(st)):
            st.lp_partial = True  # rows still withheld: the bound is weaker, still valid
            break
        if st.large:
            st.active[bad] = True
            st.hm = _instance(st, integer=False)  # presolved afresh (LARGE_SECOND_LP)
        else:
            _add_rows(st, bad)
    st.t_lp = st.now()


def _second_lp(st: _Solve) -> bool:
    """Whether a large model gets its second LP round (LARGE_SECOND_LP: the M path only, once)."""
    return LARGE_SECOND_LP and _use_master(st) and st.lp_rounds == 1


def rounding_phase(st: _Solve, start: np.ndarray | None) -> None:
    """The LP plan rounded down and completed by the greedy rule with the LP values as
    preference; kept when it beats the start plan (on large models often the best plan the
    time allows). Large models on the restricted-master path round the master's LP instead
    (capacity-feasible; the LP without capacity rows rounded was measured 6% worse on M seed
    11), and this LP only when no master was solved in time."""
    if start is not None:
        st.take(start.copy())
    if not _use_master(st):
        _lp_rounding(st)
    if st.best is not None and st.bound is not None:
        st.proven = (relative_gap(st.best_obj, st.bound) or 0.0) <= st.options.mip_rel_gap
    st.t_round = st.now() - st.t_lp


def _lp_rounding(st: _Solve) -> None:
    from coalition.planner.greedy import greedy_values, repair

    m = st.model
    if st.core is None:
        return
    xb = m.var("Assign-count")
    pref = st.core[xb.start : xb.stop]
    if st.lp_partial:  # the LP plan may break withheld rows: repair, then complete
        base = np.zeros(m.n_cols)
        base[xb.start : xb.stop] = np.floor(pref + 1e-6)
        st.take(repair(m, base))
    # the completion stops starting lines at the solver's deadline (still a feasible plan)
    st.take(
        greedy_values(m, initial=st.core, preference=pref, deadline=st.deadline)
        if not st.lp_partial
        else greedy_values(m, preference=pref, deadline=st.deadline)
    )
    st.show(None, st.bound)


def _short_lines_columns(st: _Solve) -> np.ndarray:
    """Assign-count columns of the lines the best plan leaves short somewhere."""
    m = st.model
    xb, ub = m.var("Assign-count"), m.var("Line-shortfall")
    if st.best is None or not ub.size:
        return np.zeros(xb.size, dtype=bool)
    short = np.unique(m.u_line[st.best[ub.start : ub.stop] > 1e-6])
    return np.isin(m.tables.arc_line[m.x_arc], short)


def _use_master(st: _Solve) -> bool:
    """Large models up to MASTER_MAX_COLUMNS columns take the restricted-master path (L's
    restricted model, ~300k columns, keeps the older one: a second solver form with every row
    would not fit its memory budget)."""
    return st.large and MASTER_NEIGHBOURHOOD and st.model.n_cols <= MASTER_MAX_COLUMNS


def _keep_mask(st: _Solve, around_short: bool = False) -> np.ndarray | None:
    """Assign-count columns of a restricted pass: the LP support, the incumbent and
    RESTRICTED_EXTRA x that many more of smallest reduced cost (``around_short``: only columns
    of the lines the best plan leaves short). None without an LP solution."""
    m = st.model
    xb = m.var("Assign-count")
    if st.core is None or not xb.size:
        return None
    keep = st.core[xb.start : xb.stop] > 1e-6
    if st.best is not None:
        keep |= st.best[xb.start : xb.stop] > 0.5
    rc_all = st.lp.reduced_costs if st.lp is not None else None
    if rc_all is not None and RESTRICTED_EXTRA > 0:
        rc = rc_all[xb.start : xb.stop].copy()
        rc[keep] = np.inf
        if around_short:
            rc[~_short_lines_columns(st)] = np.inf
        idx = np.argsort(rc, kind="stable")[: int(RESTRICTED_EXTRA * keep.sum())]
        keep[idx[np.isfinite(rc[idx])]] = True
    return keep


def _restrict(st: _Solve, around_short: bool = False) -> np.ndarray:
    """Columns fixed to 0 in a restricted pass: every Assign-count column outside
    :func:`_keep_mask`."""
    keep = _keep_mask(st, around_short)
    if keep is None:
        return np.zeros(0, dtype=np.int32)
    return (st.model.var("Assign-count").start + np.flatnonzero(~keep)).astype(np.int32)


class _PassInstance:
    """The HiGHS instance one MIP pass runs on: the solve's own (``st.hm``) with the columns
    outside the pass fixed at 0 for its duration, or (``compact``: a restricted pass with every
    row of the model, small models) a fresh instance of the solver form with the current rows
    holding only the columns the pass may use - the others are fixed at 0 there anyway, and
    HiGHS's presolve then starts from a few thousand columns instead of all of them (measured
    on worlds of `small`: presolve was 25-50 % of the restricted MIP's time). Plans and starts
    are in the solver form's columns either way."""

    def __init__(self, st: _Solve, fixed: np.ndarray, compact: bool) -> None:
        assert st.hm is not None and st.ff is not None
        self.st, self.fixed = st, fixed
        self.cols: np.ndarray | None = None
        self.ff = st.ff
        if not compact:
            self.hm = st.hm
            self.hm.set_bounds(fixed, np.zeros(fixed.size), np.zeros(fixed.size))
            return
        ff = flow_form(st.model, include=st.active)
        _tighten(st, ff)
        chi = ff.chi.copy()
        chi[fixed] = 0.0
        self.cols = np.flatnonzero((ff.clo != 0) | (chi != 0))
        c = self.cols
        o = st.options
        self.ff = ff
        self.hm = HighsModel(
            MatrixProblem(ff.cost[c], ff.clo[c], chi[c], ff.A[:, c], ff.lo, ff.hi, integer=ff.integer[c]),
            SolverOptions(
                mip_rel_gap=float(o.mip_rel_gap) * RESTRICTED_GAP_SHARE, threads=int(o.threads), seed=int(o.seed)
            ),
            on_report=st.on_report,
            should_stop=st.halt,
            deadline=st.deadline,
        )
        for name, value in MIP_OPTIONS.items():
            self.hm.set_option(name, value)

    def set_start(self, plan: np.ndarray) -> None:
        full = stock_values(self.st.model, self.ff, plan)
        self.hm.set_start(full if self.cols is None else full[self.cols])

    def run(self, time_limit: float) -> RunResult:
        r = self.hm.run(time_limit=time_limit)
        if self.cols is None or r.values is None:
            return r
        full = np.zeros(self.ff.clo.size)
        full[self.cols] = r.values
        return dataclasses.replace(r, values=full, reduced_costs=None, row_duals=None)

    def restore(self) -> None:
        if self.cols is None and self.fixed.size:
            self.hm.set_bounds(self.fixed, self.ff.clo[self.fixed], self.ff.chi[self.fixed])


def _mip_pass(st: _Solve, until: float, restricted: bool, use_start: bool = True, around_short: bool = False) -> None:
    """Run the MIP until wall time ``until``, resumed while its plan breaks withheld rows (those
    rows are then added and the plan repaired, so it is never lost). A restricted pass's bound
    is not a bound of the full model and is never kept."""
    from coalition.planner.greedy import repair

    m = st.model
    assert st.hm is not None and st.ff is not None
    st.restricted = restricted
    st.phase = "restricted-mip" if restricted else "full-mip"
    fixed = _restrict(st, around_short) if restricted else np.zeros(0, dtype=np.int32)
    # with every row in the MIP its incumbents are plans of the full model: once one is within
    # the target gap of the full model's bound the solve is done (the restricted pass searches
    # to a tenth of the target only to spare the full MIP, RESTRICTED_GAP_SHARE)
    st.stop_at_target = STOP_AT_TARGET and restricted and not st.large and st.full_model and bool(st.active.all())
    hm = _PassInstance(st, fixed, compact=COMPACT_RESTRICTED and st.stop_at_target)
    try:
        while time.perf_counter() < until:
            if st.best is not None and use_start:
                hm.set_start(st.best)
            hm.hm.deadline = min(until, st.deadline)  # the kill switch at the pass's own deadline
            with st.log.phase(st.phase, until):
                r = hm.run(time_limit=max(0.01, until - time.perf_counter()))
            st.mip_rounds += 1
            st.nodes += r.nodes
            st.last_outcome = r.outcome
            if not restricted and st.full_model and r.bound is not None and (st.bound is None or r.bound > st.bound):
                # HiGHS's dual bound of the full MIP is valid even when it was stopped
                st.bound, st.provenance = r.bound, "full-mip-dual"
            if st.dual_proven and not st.stopped():
                # stopped by st.halt: the dual bound proves the best plan; HiGHS's own
                # incumbent, if any, is still offered
                st.proven = True
                if r.values is not None and m.integer is not None:
                    st.take(np.where(m.integer, np.round(r.values[: m.n_cols]), r.values[: m.n_cols]))
                break
            if r.values is None:
                break
            plan = r.values[: m.n_cols]
            assert m.integer is not None  # the model is finalized
            plan = np.where(m.integer, np.round(plan), plan)
            bad = _violated(m, plan, st.active)
            if bad.size == 0:
                st.take(plan)
                break
            _add_rows(st, bad)
            st.take(repair(m, plan))
            if (
                not restricted
                and st.best is not None
                and st.bound is not None
                and ((relative_gap(st.best_obj, st.bound) or 0.0) <= st.options.mip_rel_gap)
            ):
                # the repaired plan is within the target of a bound of the full model (the MIP
                # with rows withheld relaxes it): proven, so another round would only burn time
                st.proven = st.early_stop = True
                break
            if r.outcome in (Outcome.TIME_LIMIT, Outcome.INTERRUPTED):
                break
    finally:
        st.stop_at_target = st.target_met = False
        hm.restore()


def mip_phase(st: _Solve) -> None:
    """A small neighbourhood of the LP first (fast, good plans), then - small models only -
    the full MIP with the time left (on large models the full MIP's root LP alone outlasts any
    sensible limit, so the neighbourhood gets all the time and the LP bound stands)."""
    if _use_master(st):
        from coalition.planner.rins import large_mip

        if large_mip(st):
            return
    hm = st.hm
    assert hm is not None and st.ff is not None
    hm.set_option("presolve", "on")
    hm.set_option("solver", "choose")
    for name, value in MIP_OPTIONS.items():
        hm.set_option(name, value)
    hm.set_integer(np.flatnonzero(st.ff.integer))
    if st.deferred.any():
        _add_rows(st, np.flatnonzero(st.deferred))
    if st.large and LARGE_ONE_LP_ROUND:
        withheld = np.flatnonzero(st.lazy & ~st.active)
        if withheld.size:
            _add_rows(st, withheld)
    # large models: the MIP does not stop at once at its limit (measured on M under load: up
    # to 7 s late after a 31 s pass, e.g. in presolve), so 30% of its time is kept back
    share = MIP_SHARE_LARGE if st.large else 0.2
    if not st.large:
        hm.set_option("mip_rel_gap", float(st.options.mip_rel_gap) * RESTRICTED_GAP_SHARE)
    until = time.perf_counter() + share * max(0.0, st.deadline - time.perf_counter())
    _mip_pass(st, until, restricted=True)
    late = max(0.0, time.perf_counter() - until)  # how long HiGHS took to stop after its limit
    if not st.large:
        hm.set_option("mip_rel_gap", float(st.options.mip_rel_gap))
    if (
        st.best is not None
        and st.bound is not None
        and ((relative_gap(st.best_obj, st.bound) or 0.0) <= st.options.mip_rel_gap)
    ):
        st.proven = True  # the target gap holds against a bound of the full model
        return
    # the second pass keeps back twice the first pass's stop latency (measured on M at load
    # 9-13: HiGHS returned up to ~6 s after its limit), so that the plan ends within its limit
    # (the phase log keeps back LATENCY_FACTOR x the largest overrun seen, budget.PhaseLog)
    left = min(st.log.left(), st.deadline - time.perf_counter() - 2.0 * late)
    if st.large and SECOND_PASS and not st.stopped() and st.best is not None and left > SECOND_PASS_MIN_S:
        # a second neighbourhood around the new best plan: its columns, the LP support and the
        # best-priced columns of the lines it still leaves short
        _mip_pass(st, time.perf_counter() + share * left, restricted=True, around_short=True)
    if not st.large and not st.stopped():
        # no MIP start here: with one, highspy 1.16 can report a better objective than the
        # solution it returns (seen on a 16-column model); the incumbent is kept anyway
        st.hm = _instance(st, integer=True)
        _mip_pass(st, st.log.until(), restricted=False, use_start=False)


def result_of(st: _Solve) -> Solution:
    """The typed result: status, objective, full-model bound and its provenance, the phase the
    clock stopped, phase times."""
    o = st.options
    elapsed = st.now()
    obj = None if st.best is None else st.best_obj
    bound = st.bound
    if bound is not None and obj is not None:
        bound = min(bound, obj)
    gap = relative_gap(obj, bound)
    last = st.last_outcome
    if (
        st.best is not None
        and (st.proven or (last is Outcome.OPTIMAL and not st.restricted))
        and (gap is not None and gap <= o.mip_rel_gap * 1.01)
    ):
        status = SolveStatus.OPTIMAL
    elif last is Outcome.INFEASIBLE or (st.lp is not None and st.lp.outcome is Outcome.INFEASIBLE):
        status = SolveStatus.INFEASIBLE
    elif st.best is None:
        status = SolveStatus.NO_SOLUTION
    elif st.stopped():
        status = SolveStatus.INTERRUPTED
    elif last is Outcome.TIME_LIMIT or st.lp_ran_out or time.perf_counter() >= st.deadline:
        status = SolveStatus.TIME_LIMIT
    else:
        status = SolveStatus.FEASIBLE
    out_of_time = None
    if status in (SolveStatus.TIME_LIMIT, SolveStatus.NO_SOLUTION):
        out_of_time = "lp" if st.lp_ran_out else st.phase
    n_lazy = int(st.lazy.sum())
    return Solution(
        SolveResult(
            solver="highs",
            status=status,
            objective=obj,
            bound=bound,
            gap=gap,
            time=round(elapsed, 4),
            nodes=st.nodes,
            bound_provenance=st.provenance if bound is not None else "none",
            phase_out_of_time=out_of_time,
            message=f"{(last or (st.lp.outcome if st.lp else Outcome.NO_SOLUTION)).value}; LP rounds "
            f"{st.lp_rounds}, MIP rounds {st.mip_rounds}, capacity rows passed "
            f"{int((st.active & st.lazy).sum())} of {n_lazy}; phases: LP {st.t_lp:.1f} s, "
            f"rounding {st.t_round:.1f} s, MIP {elapsed - st.t_lp - st.t_round:.1f} s"
            + ("; LP started from the given basis" if st.lp_warm else "")
            + ("; stopped early: the repaired plan met the target gap" if st.early_stop else "")
            + ("; stopped early: the full MIP's bound proved the best plan" if st.dual_proven else "")
            + (f"; restricted master: {st.master_message}" if st.master_message else "")
            + (
                f"; polish: {st.polish_tried} move(s), {st.polish_gain:,.0f} off the objective"
                if st.polish_tried
                else ""
            )
            + (f"; RENS: {st.rens_runs} MIP(s), {st.rens_gain:,.0f} off the objective" if st.rens_runs else "")
            + (f"; {st.log.summary()}" if st.log.late() else ""),
        ),
        st.best,
        st.lp_basis_out,
        tuple(st.log.records),
    )


def solve_highs(
    model: Model,
    options: PlanOptions,
    *,
    progress: ProgressFn | None = None,
    start: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    relax: bool = False,
    withhold: bool = True,
    lp_basis: LpBasis | None = None,
) -> Solution:
    """Solve ``model`` with HiGHS. ``start`` is a feasible core vector (a MIP start);
    ``withhold=False`` passes every capacity row from the first LP on (no row generation: for
    many small solves of one model, where a MIP plan breaking a withheld row and its repair
    cost more than the rows; the scenario analysis, docs/analysis.md);
    ``relax`` solves the LP relaxation only. ``model.full_bound``: a valid bound of the full
    model and its provenance, for a model restricted to some columns (``model.subset``), whose
    own LP and MIP bounds are then never used. ``lp_basis``: the first LP starts from this basis (the
    ``lp_basis`` of an earlier solve of a model with the same columns and rows and other
    bounds, e.g. the scenario analysis' worlds; ignored when its shape differs). The LP is
    solved to optimality either way, so its bound is the same. The phases: :func:`lp_phase`,
    :func:`rounding_phase`, :func:`mip_phase`, :func:`result_of`."""
    t0 = time.perf_counter()
    assert model.A is not None and model.hi is not None
    limit = float(options.time_limit)
    lazy = np.zeros(model.n_rows, dtype=bool)
    for fam in LAZY_FAMILIES if withhold else ():
        b = model.con(fam)
        lazy[b.start : b.stop] = True
    # the cohesion links (big-M rows) make the LP slow and only add cost: left out of the LP
    deferred = np.zeros(model.n_rows, dtype=bool)
    link = model.con("Hub-nation-link")
    deferred[link.start : link.stop] = True
    large = model.n_cols > LARGE_COLUMNS
    active = ~lazy & ~deferred
    if start is not None and not large:
        act0 = model.A @ start  # capacity rows the start plan already fills are likely to bind
        active |= lazy & (act0 >= 0.95 * model.hi) & np.isfinite(model.hi)
    st = _Solve(
        model=model,
        options=options,
        progress=progress,
        should_stop=should_stop,
        t0=t0,
        # HiGHS is stopped a little before the limit: after an interrupt it still finishes its
        # current step, and the best plan is then checked and copied out (see stop_margin)
        deadline=t0 + limit - stop_margin(model.n_cols, limit),
        lazy=lazy,
        deferred=deferred,
        active=active,
        large=large,
        # a trimmed or restricted model's bound is no bound of the full model
        full_model=options.candidates_per_line is None and model.subset is None,
    )
    if model.full_bound is not None:  # a bound of the full model found elsewhere (column generation)
        st.bound, st.provenance = model.full_bound
    st.lp_basis_in = lp_basis
    st.A_csr = model.A.tocsr()
    st.hm = _instance(st, integer=False)
    lp_phase(st)
    assert st.ff is not None  # set by _instance
    if relax or not st.ff.integer.any():
        ok = st.core is not None and not st.lp_ran_out
        status = (
            SolveStatus.OPTIMAL
            if ok
            else (
                SolveStatus.INFEASIBLE
                if st.lp is not None and st.lp.outcome is Outcome.INFEASIBLE
                else SolveStatus.NO_SOLUTION
            )
        )
        value = st.lp.objective if (ok and st.lp is not None) else None
        return Solution(
            SolveResult(
                solver="highs-lp" if relax else "highs",
                status=status,
                objective=value,
                bound=value,
                gap=0.0 if ok else None,
                time=round(st.now(), 4),
                bound_provenance="full-lp" if ok and st.full_model else "none",
                phase_out_of_time="lp" if st.lp_ran_out else None,
                message=f"{st.lp.outcome.value if st.lp else 'no run'}; {st.lp_rounds} LP round(s)",
            ),
            st.core if ok else None,
            st.lp_basis_out,
        )
    rounding_phase(st, start)
    if not st.proven:
        mip_phase(st)
    return result_of(st)
