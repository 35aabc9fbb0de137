"""One small typed wrapper around HiGHS (``highspy``), used by the planner and by the depot
placement engine (:mod:`coalition.depots.placement`).

A problem goes in as matrices (:class:`MatrixProblem`); a run comes back as a
:class:`RunResult` with an :class:`Outcome` - optimal, feasible, infeasible, unbounded, time
limit, interrupted, no solution - never an exception. Live reports (:class:`Report`: incumbent,
bound, gap, nodes) go to a callback; ``should_stop`` and a wall-clock ``deadline`` stop a run
from inside HiGHS's own interrupt callbacks. Only the public ``highspy`` API is used.

Nothing here knows about plans or depots: callers translate their model to matrices and their
outcome words from :class:`Outcome`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, cast

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # highspy itself is imported on first use (it is slow to load)
    import highspy


class Outcome(StrEnum):
    """How a run ended. ``has_solution`` on the result says whether values came back."""

    OPTIMAL = "optimal"  # proven optimal (for a MIP: within mip_rel_gap)
    FEASIBLE = "feasible"  # a solution, stopped by another limit (solutions, iterations, nodes)
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time-limit"  # HiGHS's time limit or the caller's deadline
    INTERRUPTED = "interrupted"  # should_stop() said so
    NO_SOLUTION = "no-solution"  # stopped before any solution
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SolverOptions:
    """Options passed to HiGHS. ``method``: choose | simplex | ipm."""

    time_limit: float | None = None
    mip_rel_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    method: str = "choose"
    presolve: bool = True


@dataclass(frozen=True, slots=True)
class MatrixProblem:
    """min (or max) cost.x  s.t.  row_lo <= A x <= row_hi, col_lo <= x <= col_hi; ``integer``
    marks integer columns (None = an LP). Infinite bounds are ``±inf``. ``offset``: a constant
    added to the objective (e.g. the cost of columns substituted out)."""

    cost: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    integer: np.ndarray | None = None
    maximize: bool = False
    offset: float = 0.0


@dataclass(frozen=True, slots=True)
class Report:
    """One live report: seconds since the run started, best objective, best bound, gap."""

    time: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    nodes: int = 0
    improving: bool = False


@dataclass(frozen=True, slots=True)
class RunResult:
    outcome: Outcome
    objective: float | None  # of the returned solution
    bound: float | None  # MIP: HiGHS's dual bound; LP: the optimal value when optimal
    gap: float | None
    values: np.ndarray | None
    reduced_costs: np.ndarray | None  # LP only, when optimal
    nodes: int
    time: float
    message: str  # HiGHS's own status words
    row_duals: np.ndarray | None = None  # LP only, when optimal: reduced cost = cost - A^T row_duals

    @property
    def has_solution(self) -> bool:
        return self.values is not None


@dataclass(frozen=True, slots=True)
class LpBasis:
    """A simplex basis of one HiGHS instance (:meth:`HighsModel.basis`), to start another
    instance of a problem of the same shape from (:meth:`HighsModel.set_basis`): for many LPs
    that differ only in bounds, the dual simplex then starts from a dual feasible basis instead
    of presolving and solving afresh. Only the shape is checked here; HiGHS checks the rest."""

    raw: object  # highspy.HighsBasis (a copy; opaque to callers)
    n_cols: int
    n_rows: int


def finite(v: float | None) -> float | None:
    """None for HiGHS's infinities and NaN."""
    return None if v is None or not np.isfinite(v) or abs(v) >= 1e30 else float(v)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9) if objective != bound else 0.0


def _quiet_highs() -> highspy.Highs:
    """A ``highspy.Highs`` without its start-up banner: the banner is printed by C++ straight
    to file descriptor 1, which would corrupt ``--json`` output and tear Rich's live display,
    so fd 1 points at /dev/null while the instance is made."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves Highs.__init__ unannotated
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


class HighsModel:
    """A problem held in one HiGHS instance; it can be changed between runs (rows added, bounds
    and integrality changed, a start given) and run again with the time left."""

    def __init__(
        self,
        problem: MatrixProblem,
        options: SolverOptions = SolverOptions(),  # noqa: B008 - frozen
        *,
        on_report: Callable[[Report], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        deadline: float | None = None,
        report_every: float = 0.2,
    ) -> None:
        import highspy

        self._hs = highspy
        self.options = options
        self.on_report = on_report
        self.should_stop = should_stop
        self.deadline = deadline  # time.perf_counter() value
        self._report_every = report_every
        self._t0 = time.perf_counter()
        self._last = -1e9
        self._stopped_by_user = False
        self._stopped_by_clock = False
        self.n_cols = int(problem.A.shape[1])
        h = _quiet_highs()
        h.setOptionValue("random_seed", int(options.seed))
        h.setOptionValue("threads", int(options.threads))
        h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
        h.setOptionValue("solver", options.method)
        h.setOptionValue("presolve", "on" if options.presolve else "off")
        inf = highspy.kHighsInf
        A = problem.A.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_ = np.asarray(problem.cost, dtype=np.float64)
        lp.col_lower_ = np.where(np.isfinite(problem.col_lo), problem.col_lo, -inf)
        lp.col_upper_ = np.where(np.isfinite(problem.col_hi), problem.col_hi, inf)
        lp.row_lower_ = np.where(np.isfinite(problem.row_lo), problem.row_lo, -inf)
        lp.row_upper_ = np.where(np.isfinite(problem.row_hi), problem.row_hi, inf)
        lp.offset_ = float(problem.offset)
        if problem.maximize:
            lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = A.shape[1], A.shape[0]
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(np.float64)
        self.integer = problem.integer is not None and bool(np.any(problem.integer))
        if self.integer:
            assert problem.integer is not None
            kind = highspy.HighsVarType
            lp.integrality_ = [kind.kInteger if x else kind.kContinuous for x in problem.integer]
        h.passModel(lp)
        h.cbSimplexInterrupt.subscribe(self._guard)
        h.cbIpmInterrupt.subscribe(self._guard)
        h.cbMipInterrupt.subscribe(self._on_mip)
        h.cbMipImprovingSolution.subscribe(self._on_mip)
        self._h = h

    # -- callbacks --------------------------------------------------------------------------
    def _stop_now(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self._stopped_by_user = True
            return True
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self._stopped_by_clock = True
            return True
        return False

    def _guard(self, e: highspy.highs.HighsCallbackEvent) -> None:
        if self._stop_now():
            e.interrupt()

    def _on_mip(self, e: highspy.highs.HighsCallbackEvent) -> None:
        if self._stop_now():
            e.interrupt()
        if self.on_report is None:
            return
        improving = e.callback_type == self._hs.cb.HighsCallbackType.kCallbackMipImprovingSolution
        now = time.perf_counter() - self._t0
        if not improving and now - self._last < self._report_every:
            return
        self._last = now
        d = e.data_out
        inc, bnd = finite(d.mip_primal_bound), finite(d.mip_dual_bound)
        self.on_report(Report(round(now, 3), inc, bnd, relative_gap(inc, bnd), int(d.mip_node_count), improving))

    # -- changes between runs -----------------------------------------------------------------
    def set_option(self, name: str, value: bool | int | float | str) -> None:
        self._h.setOptionValue(name, value)

    def add_rows(self, A_rows: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> None:
        inf = self._hs.kHighsInf
        A_rows = A_rows.tocsr()
        self._h.addRows(
            int(A_rows.shape[0]),
            np.where(np.isfinite(lo), lo, -inf),
            np.where(np.isfinite(hi), hi, inf),
            int(A_rows.nnz),
            A_rows.indptr[:-1].astype(np.int32),
            A_rows.indices.astype(np.int32),
            A_rows.data.astype(np.float64),
        )

    def add_cols(self, cost: np.ndarray, lo: np.ndarray, hi: np.ndarray, A_cols: sp.csc_matrix) -> None:
        """Append columns (their entries in the existing rows)."""
        inf = self._hs.kHighsInf
        A_cols = A_cols.tocsc()
        n = int(A_cols.shape[1])
        if not n:
            return
        self._h.addCols(
            n,
            np.asarray(cost, np.float64),
            np.where(np.isfinite(lo), lo, -inf),
            np.where(np.isfinite(hi), hi, inf),
            int(A_cols.nnz),
            A_cols.indptr[:-1].astype(np.int32),
            A_cols.indices.astype(np.int32),
            A_cols.data.astype(np.float64),
        )
        self.n_cols += n

    def set_bounds(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if cols.size:
            self._h.changeColsBounds(int(cols.size), cols, np.asarray(lo, float), np.asarray(hi, float))

    def set_integer(self, cols: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if cols.size:
            self._h.changeColsIntegrality(int(cols.size), cols, np.full(cols.size, self._hs.HighsVarType.kInteger))
            self.integer = True

    def basis(self) -> LpBasis | None:
        """The instance's current simplex basis (None when HiGHS has no valid one)."""
        b = self._h.getBasis()
        if not b.valid:
            return None
        return LpBasis(b, self.n_cols, int(self._h.getNumRow()))

    def set_basis(self, basis: LpBasis) -> bool:
        """Start the next LP run from ``basis``; False (and nothing changed) when it is of
        another shape or HiGHS refuses it."""
        if basis.n_cols != self.n_cols or basis.n_rows != int(self._h.getNumRow()):
            return False
        raw = cast("highspy.HighsBasis", basis.raw)
        return bool(self._h.setBasis(raw) == self._hs.HighsStatus.kOk)

    def set_start(self, values: np.ndarray) -> None:
        sol = self._hs.HighsSolution()
        sol.col_value = list(map(float, values))
        sol.value_valid = True
        self._h.setSolution(sol)

    # -- running --------------------------------------------------------------------------------
    def run(self, time_limit: float | None = None) -> RunResult:
        """Run (or resume) with at most ``time_limit`` seconds (and within the deadline)."""
        h, S = self._h, self._hs.HighsModelStatus
        # kHighsInterrupt exists at run time but is missing from highspy's stubs
        interrupts = (S.kInterrupt, getattr(S, "kHighsInterrupt", S.kInterrupt))
        self._stopped_by_user = self._stopped_by_clock = False
        t = time.perf_counter()
        limit = time_limit if time_limit is not None else self.options.time_limit
        if self.deadline is not None:
            left = max(0.01, self.deadline - t)
            limit = left if limit is None else min(limit, left)
        # HiGHS compares its time limit with its run time accumulated over runs
        h.setOptionValue("time_limit", float(h.getRunTime()) + float(limit) if limit is not None else float("inf"))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has = int(info.primal_solution_status) == 2
        values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has else None
        if values is not None and values.size != self.n_cols:
            values = None
        if self.integer:
            nodes = int(info.mip_node_count)
            bound = finite(info.mip_dual_bound)
            objective = finite(info.objective_function_value) if values is not None else None
            rc = duals = None
        else:
            nodes = 0
            objective = finite(info.objective_function_value) if values is not None else None
            bound = objective if status == S.kOptimal else None
            rc = np.asarray(h.getSolution().col_dual, dtype=np.float64) if status == S.kOptimal else None
            duals = np.asarray(h.getSolution().row_dual, dtype=np.float64) if status == S.kOptimal else None
        if status == S.kOptimal:
            outcome = Outcome.OPTIMAL
        elif status == S.kInfeasible:
            outcome = Outcome.INFEASIBLE
        elif status in (S.kUnbounded, S.kUnboundedOrInfeasible):
            outcome = Outcome.UNBOUNDED
        elif status in interrupts and self._stopped_by_user:
            outcome = Outcome.INTERRUPTED
        elif status in interrupts or status == S.kTimeLimit:
            outcome = Outcome.TIME_LIMIT
        elif status in (S.kSolutionLimit, S.kIterationLimit, S.kObjectiveBound, S.kObjectiveTarget):
            outcome = Outcome.FEASIBLE if values is not None else Outcome.NO_SOLUTION
        else:
            outcome = Outcome.ERROR
        return RunResult(
            outcome=outcome,
            objective=objective,
            bound=bound,
            gap=relative_gap(objective, bound) if self.integer else (0.0 if bound is not None else None),
            values=values,
            reduced_costs=rc,
            nodes=nodes,
            time=round(time.perf_counter() - t, 4),
            message=h.modelStatusToString(status),
            row_duals=duals,
        )


def solve(
    problem: MatrixProblem,
    options: SolverOptions = SolverOptions(),  # noqa: B008
    *,
    on_report: Callable[[Report], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    deadline: float | None = None,
) -> RunResult:
    """Build and run once."""
    return HighsModel(problem, options, on_report=on_report, should_stop=should_stop, deadline=deadline).run()


__all__ = [
    "HighsModel",
    "LpBasis",
    "MatrixProblem",
    "Outcome",
    "Report",
    "RunResult",
    "SolverOptions",
    "finite",
    "relative_gap",
    "solve",
]
