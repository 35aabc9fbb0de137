"""Solver adapters: a model in matrix form in, a typed :class:`SolveResult` and values out.

HiGHS (``highspy``) is the default. Optimal, feasible-with-gap, time limit, interrupted and
infeasible are all *results*; nothing solver-specific leaks out of this module. Determinism:
HiGHS runs with a fixed ``random_seed`` and a fixed thread count, so the same model and seed give
the same plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coalition.planner.model import Model
from coalition.planner.schemas import PlanOptions, Progress, SolveResult, SolveStatus

ProgressFn = Callable[[Progress], None]


@dataclass(slots=True)
class Solution:
    result: SolveResult
    values: np.ndarray | None  # column values (length n_cols) when a plan exists


def _finite(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) or abs(v) >= 1e30 else float(v)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9) if objective != bound else 0.0


def _new_highs(highspy: object) -> object:
    """A Highs instance without its start-up banner (printed by C++ straight to fd 1, which
    would tear the Rich live display)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()  # type: ignore[attr-defined]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def solve_highs(
    model: Model,
    options: PlanOptions,
    *,
    progress: ProgressFn | None = None,
    start: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    relax: bool = False,
) -> Solution:
    """Solve ``model`` with HiGHS. ``start`` is a feasible column vector (a MIP start)."""
    import highspy

    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))

    A = model.A
    assert A is not None and model.lo is not None and model.hi is not None
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = model.n_rows
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.clo
    lp.col_upper_ = model.chi
    lp.row_lower_ = np.where(np.isfinite(model.lo), model.lo, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(model.hi), model.hi, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = model.n_cols
    lp.a_matrix_.num_row_ = model.n_rows
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    if not relax and model.integer is not None and model.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in model.integer
        ]
    h.passModel(lp)

    if start is not None and not relax:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)

    t0 = time.perf_counter()
    state = {"last": 0.0}

    def on_event(e: object) -> None:
        data = e.data_out  # type: ignore[attr-defined]
        now = time.perf_counter() - t0
        if should_stop is not None and should_stop():
            e.interrupt()  # type: ignore[attr-defined]
        if progress is None:
            return
        improving = e.callback_type == highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution  # type: ignore[attr-defined]
        if not improving and now - state["last"] < 0.2:
            return
        state["last"] = now
        inc = _finite(data.mip_primal_bound)
        bnd = _finite(data.mip_dual_bound)
        progress(
            Progress(
                time=round(now, 3),
                incumbent=inc,
                bound=bnd,
                gap=relative_gap(inc, bnd),
                nodes=int(data.mip_node_count),
            )
        )

    if (progress is not None or should_stop is not None) and not relax:
        h.cbMipImprovingSolution.subscribe(on_event)
        h.cbMipInterrupt.subscribe(on_event)

    h.run()
    elapsed = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    obj = _finite(info.objective_function_value) if has_sol else None
    if relax:
        bound = obj
    else:
        bound = _finite(info.mip_dual_bound)
    S = highspy.HighsModelStatus
    if ms == S.kOptimal:
        status = SolveStatus.OPTIMAL
        if bound is None:
            bound = obj
    elif ms == S.kInfeasible:
        status = SolveStatus.INFEASIBLE
    elif ms == S.kTimeLimit:
        status = SolveStatus.TIME_LIMIT if has_sol else SolveStatus.NO_SOLUTION
    elif ms in (S.kInterrupt, S.kHighsInterrupt):
        status = SolveStatus.INTERRUPTED if has_sol else SolveStatus.NO_SOLUTION
    elif ms == S.kModelEmpty:
        status, obj, bound = SolveStatus.OPTIMAL, 0.0, 0.0
    elif has_sol:
        status = SolveStatus.FEASIBLE
    else:
        status = SolveStatus.ERROR
    gap = relative_gap(obj, bound)
    if status == SolveStatus.OPTIMAL and gap is not None and gap > options.mip_rel_gap * 1.01:
        status = SolveStatus.FEASIBLE
    values = None
    if has_sol:
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    elif ms == S.kModelEmpty:
        values = np.zeros(model.n_cols)
    if values is not None and model.integer is not None and not relax:
        values = np.where(model.integer, np.round(values), values)
    result = SolveResult(
        solver="highs" + ("-lp" if relax else ""),
        status=status,
        objective=obj,
        bound=bound,
        gap=gap,
        time=round(elapsed, 4),
        nodes=int(info.mip_node_count) if not relax else 0,
        message=h.modelStatusToString(ms),
    )
    return Solution(result=result, values=values)
