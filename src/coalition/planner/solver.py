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

from coalition.planner.model import FlowForm, Model, flow_form, stock_values
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


LARGE_COLUMNS = 20_000
LAZY_FAMILIES = ("Hub-personnel-capacity", "Corridor-personnel-capacity", "Corridor-tonnage-capacity")
TOL = 1e-6


STOP_SECONDS_PER_COLUMN = 2e-5
# The restricted MIP keeps the LP support, the incumbent, and RESTRICTED_EXTRA x that many more
# Assign-count columns: those with the smallest LP reduced cost. Measured on M (60 s, seed 1):
# extra 0 -> 1.134% gap, 0.3 -> 1.082%, 1 -> 1.043%, 1.5 -> 0.965% (below 1% after 26 s of MIP),
# 2 -> 1.001%, 2.5 -> 0.962% (after 34 s of MIP), 3 and 4 -> worse (a larger MIP is searched
# more slowly); LP support alone (no incumbent) -> 1.70%. One run each; HiGHS runs single-
# threaded with a fixed seed, so the search path is repeatable and only its speed varies.
RESTRICTED_EXTRA = 1.5


def stop_margin(n_cols: int, time_limit: float) -> float:
    """Seconds before ``time_limit`` at which HiGHS is told to stop, so that the solve (stop
    latency + copying and checking the best plan) ends within the limit. Measured: the L
    instance (~507k columns) overran a 600 s limit by 6.2 s when stopped at the limit, M
    (~75k columns) by 0.03 s; 2e-5 s per column (L: 10 s, M: 1.5 s), at most a tenth of the
    limit, covers both."""
    return min(STOP_SECONDS_PER_COLUMN * n_cols, 0.1 * time_limit)


def _violated(
    model: Model, core: np.ndarray, active: np.ndarray, only: np.ndarray | None = None
) -> np.ndarray:
    """Rows not yet passed to the solver (restricted to ``only`` if given) that ``core`` breaks."""
    assert model.A is not None and model.hi is not None and model.lo is not None
    act = model.A @ core
    bad = ((act > model.hi + TOL) | (act < model.lo - TOL)) & ~active
    if only is not None:
        bad &= only
    return np.flatnonzero(bad)


def solve_highs(
    model: Model,
    options: PlanOptions,
    *,
    progress: ProgressFn | None = None,
    start: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    relax: bool = False,
) -> Solution:
    """Solve ``model`` with HiGHS. ``start`` is a feasible core vector (a MIP start).

    Row generation: capacity rows (:data:`LAZY_FAMILIES`) are passed to HiGHS only once a
    solution breaks them. First the LP relaxation is re-solved until it breaks none, then the
    MIP; a MIP plan that breaks a withheld row gets that row added and the MIP resumes with the
    time left. Rows withheld only relax the model, so HiGHS's bound stays a valid bound; the
    plan returned satisfies every row.
    """
    import highspy

    t0 = time.perf_counter()
    full_model = options.candidates_per_line is None  # a trimmed model's bound is no bound
    # HiGHS is stopped a little before the limit: after an interrupt it still finishes its
    # current step, and the best plan is then checked and copied out (see stop_margin).
    deadline = t0 + float(options.time_limit) - stop_margin(model.n_cols, float(options.time_limit))
    assert model.A is not None and model.hi is not None
    lazy = np.zeros(model.n_rows, dtype=bool)
    for fam in LAZY_FAMILIES:
        b = model.con(fam)
        lazy[b.start : b.stop] = True
    # The cohesion links (big-M rows) make the LP slow and only add cost, so the LP phase runs
    # without them (a valid, slightly weaker bound); the MIP phase gets them all.
    deferred = np.zeros(model.n_rows, dtype=bool)
    link = model.con("Hub-nation-link")
    deferred[link.start : link.stop] = True
    active = ~lazy & ~deferred
    # Large models: the dual simplex crawls on this LP (measured on M: > 60 s) while the
    # interior-point solver takes ~15 s with every capacity row present, so large models pass all
    # rows at once and solve the LP phase with IPM; small ones use row generation + simplex.
    large = model.n_cols > LARGE_COLUMNS
    if large:
        active |= lazy
    if start is not None:
        # capacity rows the start plan already fills are likely to bind: pass them at once
        act0 = model.A @ start
        active |= lazy & (act0 >= 0.95 * model.hi) & np.isfinite(model.hi)
    ff = flow_form(model, include=active)
    A_csr = model.A.tocsr()

    inf = highspy.kHighsInf

    def new_instance(integer: bool, prebuilt: FlowForm | None = None) -> object:
        """A fresh HiGHS instance holding the solver form with the rows active now. (Re-using
        one instance for a second MIP after bound changes returned a stale solution in
        highspy 1.16, so every MIP pass gets its own.)"""
        f = prebuilt if prebuilt is not None else flow_form(model, include=active)
        hh = _new_highs(highspy)
        hh.setOptionValue("output_flag", False)
        hh.setOptionValue("random_seed", int(options.seed))
        hh.setOptionValue("threads", int(options.threads))
        hh.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
        lp = highspy.HighsLp()
        lp.num_col_ = f.A.shape[1]
        lp.num_row_ = f.A.shape[0]
        lp.col_cost_ = f.cost
        lp.col_lower_ = f.clo
        lp.col_upper_ = f.chi
        lp.row_lower_ = np.where(np.isfinite(f.lo), f.lo, -inf)
        lp.row_upper_ = np.where(np.isfinite(f.hi), f.hi, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = f.A.shape[1]
        lp.a_matrix_.num_row_ = f.A.shape[0]
        lp.a_matrix_.start_ = f.A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = f.A.indices.astype(np.int32)
        lp.a_matrix_.value_ = f.A.data
        if integer and f.integer.any():
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if x else highspy.HighsVarType.kContinuous
                for x in f.integer
            ]
        hh.passModel(lp)
        hh.cbSimplexInterrupt.subscribe(guard)
        hh.cbIpmInterrupt.subscribe(guard)
        if integer:
            hh.cbMipImprovingSolution.subscribe(on_event)
            hh.cbMipInterrupt.subscribe(on_event)
        return hh

    n_core = ff.n_core
    S = highspy.HighsModelStatus

    def add_rows(rows: np.ndarray) -> None:
        sub = A_csr[rows]
        lo = np.where(np.isfinite(model.lo[rows]), model.lo[rows], -inf)
        hi = np.where(np.isfinite(model.hi[rows]), model.hi[rows], inf)
        h.addRows(int(rows.size), lo, hi, int(sub.nnz), sub.indptr[:-1].astype(np.int32),
                  sub.indices.astype(np.int32), sub.data)
        active[rows] = True

    def remaining() -> float:
        # HiGHS's time limit is compared with its run time accumulated over runs
        return float(h.getRunTime()) + max(0.01, deadline - time.perf_counter())

    def guard(e: object) -> None:
        if time.perf_counter() > deadline or (should_stop is not None and should_stop()):
            e.interrupt()  # type: ignore[attr-defined]

    state: dict[str, object] = {"last": 0.0, "bound": None, "restricted": False, "phase": "lp"}

    def valid_bound(reported: float | None) -> float | None:
        """The bound shown live: only a bound of the FULL model (the LP bound, or the full
        MIP's dual bound); a restricted MIP's own bound is never shown."""
        known = state["bound"]
        if state["restricted"] or reported is None:
            return known  # type: ignore[return-value]
        return reported if known is None else max(reported, known)  # type: ignore[arg-type]

    def on_event(e: object) -> None:
        data = e.data_out  # type: ignore[attr-defined]
        now = time.perf_counter() - t0
        if time.perf_counter() > deadline or (should_stop is not None and should_stop()):
            e.interrupt()  # type: ignore[attr-defined]
        if progress is None:
            return
        improving = e.callback_type == highspy.cb.HighsCallbackType.kCallbackMipImprovingSolution  # type: ignore[attr-defined]
        if not improving and now - state["last"] < 0.2:
            return
        state["last"] = now
        inc = _finite(data.mip_primal_bound)
        bnd = valid_bound(_finite(data.mip_dual_bound))
        if inc is not None and bnd is not None and bnd > inc:
            bnd = inc
        progress(Progress(time=round(now, 3), incumbent=inc, bound=bnd,
                          gap=relative_gap(inc, bnd), nodes=int(data.mip_node_count)))

    h = new_instance(integer=False, prebuilt=ff)

    # Phase 1: the LP relaxation, with row generation
    if large:
        h.setOptionValue("solver", "ipm")
    lp_rounds = 0
    while True:
        h.setOptionValue("time_limit", remaining())
        h.run()
        lp_rounds += 1
        if h.getModelStatus() != S.kOptimal:
            break
        core = np.asarray(h.getSolution().col_value, dtype=np.float64)[:n_core]
        bad = _violated(model, core, active, only=lazy)
        if progress is not None:
            progress(Progress(time=round(time.perf_counter() - t0, 3), incumbent=None,
                              bound=_finite(h.getInfo().objective_function_value) if full_model else None,
                              gap=None))
        if bad.size == 0 or time.perf_counter() >= deadline:
            break
        add_rows(bad)
    t_lp = time.perf_counter() - t0
    lp_ran_out = h.getModelStatus() != S.kOptimal or (
        _violated(model, np.asarray(h.getSolution().col_value, dtype=np.float64)[:n_core], active,
                  only=lazy).size > 0
    )
    lp_dual = None  # reduced costs of the LP, used to widen the restricted MIP
    if h.getModelStatus() == S.kOptimal:
        lp_dual = np.asarray(h.getSolution().col_dual, dtype=np.float64)[:n_core]
    lp_status = h.getModelStatus()
    lp_obj = _finite(h.getInfo().objective_function_value) if lp_status == S.kOptimal else None
    if relax or not ff.integer.any():
        elapsed = time.perf_counter() - t0
        ok = lp_status == S.kOptimal
        values = np.asarray(h.getSolution().col_value, dtype=np.float64)[:n_core] if ok else None
        if ok and _violated(model, values, active, only=lazy).size:  # time ran out mid-generation
            ok, values = False, None
        status = SolveStatus.OPTIMAL if ok else (
            SolveStatus.INFEASIBLE if lp_status == S.kInfeasible else SolveStatus.NO_SOLUTION
        )
        return Solution(
            SolveResult(solver="highs-lp" if relax else "highs", status=status,
                        objective=lp_obj if ok else None, bound=lp_obj if ok else None,
                        gap=0.0 if ok else None, time=round(elapsed, 4),
                        bound_provenance="full-lp" if ok else "none",
                        phase_out_of_time="lp" if lp_ran_out else None,
                        message=f"{h.modelStatusToString(lp_status)}; {lp_rounds} LP round(s)"),
            values,
        )

    # Phase 1b: round the LP plan down and complete it greedily (LP-guided greedy). On large
    # models this is often the best plan the time allows; the LP value is the bound.
    best: np.ndarray | None = None
    best_obj = np.inf
    if start is not None and _violated(model, start, np.zeros(model.n_rows, bool)).size == 0:
        best, best_obj = start.copy(), float(model.cost @ start)
    # Any LP optimum here is a valid lower bound of the full model: rows still withheld (row
    # generation stopped by the clock) and the cohesion links left out only relax it. A model
    # trimmed by candidates_per_line is not the full model: its bound is not reported.
    lp_bound = lp_obj if (lp_status == S.kOptimal and full_model) else None
    state["bound"] = lp_bound
    provenance = "full-lp" if lp_bound is not None else "none"
    if lp_status == S.kOptimal:
        from coalition.planner.greedy import greedy_values

        xb = model.var("Assign-count")
        rounded = greedy_values(model, initial=core, preference=core[xb.start : xb.stop])
        if _violated(model, rounded, np.zeros(model.n_rows, bool)).size == 0:
            r_obj = float(model.cost @ rounded)
            if r_obj < best_obj - 1e-9:
                best, best_obj = rounded, r_obj
        if progress is not None and best is not None:
            progress(Progress(time=round(time.perf_counter() - t0, 3), incumbent=best_obj,
                              bound=lp_bound, gap=relative_gap(best_obj, lp_bound)))

    t_round = time.perf_counter() - t0 - t_lp

    # Phase 2: the MIP, resumed while its plan breaks withheld rows
    h.setOptionValue("presolve", "on")
    h.setOptionValue("solver", "choose")
    ints = np.flatnonzero(ff.integer).astype(np.int32)
    h.changeColsIntegrality(
        int(ints.size), ints, np.full(ints.size, highspy.HighsVarType.kInteger)
    )
    if deferred.any():
        add_rows(np.flatnonzero(deferred))
    h.cbMipImprovingSolution.subscribe(on_event)
    h.cbMipInterrupt.subscribe(on_event)

    bound: float | None = lp_bound
    ms = S.kNotset
    proven = best is not None and lp_bound is not None and (
        relative_gap(best_obj, lp_bound) or 0.0
    ) <= options.mip_rel_gap
    if proven:
        ms = S.kOptimal  # the rounded plan meets the LP bound: nothing left to search
    counters = {"rounds": 0, "nodes": 0}
    xb = model.var("Assign-count")

    def mip_pass(until: float, restricted: bool, use_start: bool = True) -> int:
        """Run the MIP until wall time ``until``; returns HiGHS's model status. A restricted
        pass fixes every Assign-count column outside the LP support and the incumbent to 0
        (a small MIP around the LP solution); its bound is not a bound of the full model."""
        nonlocal best, best_obj, bound, provenance
        state["restricted"] = restricted
        state["phase"] = "restricted-mip" if restricted else "full-mip"
        fixed = np.zeros(0, dtype=np.int32)
        if restricted and lp_status == S.kOptimal and xb.size:
            keep = core[xb.start : xb.stop] > 1e-6
            if best is not None:
                keep |= best[xb.start : xb.stop] > 0.5
            if lp_dual is not None and RESTRICTED_EXTRA > 0:
                # widen the neighbourhood by the columns the LP prices closest to entering
                rc = lp_dual[xb.start : xb.stop].copy()
                rc[keep] = np.inf
                extra = int(RESTRICTED_EXTRA * keep.sum())
                idx = np.argsort(rc, kind="stable")[:extra]
                keep[idx[np.isfinite(rc[idx])]] = True
            fixed = (xb.start + np.flatnonzero(~keep)).astype(np.int32)
            h.changeColsBounds(int(fixed.size), fixed, np.zeros(fixed.size), np.zeros(fixed.size))
        status = S.kNotset
        try:
            while time.perf_counter() < until:
                if best is not None and use_start:
                    sol = highspy.HighsSolution()
                    sol.col_value = list(map(float, stock_values(model, ff, best)))
                    sol.value_valid = True
                    h.setSolution(sol)
                h.setOptionValue(
                    "time_limit", float(h.getRunTime()) + max(0.01, until - time.perf_counter())
                )
                h.run()
                counters["rounds"] += 1
                status = h.getModelStatus()
                info = h.getInfo()
                counters["nodes"] += int(info.mip_node_count)
                b = _finite(info.mip_dual_bound)
                if b is not None and not restricted and full_model and (bound is None or b > bound):
                    # HiGHS's dual bound of the full MIP is valid even when it was stopped
                    bound, provenance = b, "full-mip-dual"
                    state["bound"] = bound
                if info.primal_solution_status != 2:
                    break
                sol_core = np.asarray(h.getSolution().col_value, dtype=np.float64)[:n_core]
                sol_core = np.where(model.integer, np.round(sol_core), sol_core)
                bad = _violated(model, sol_core, active)
                if bad.size == 0:
                    obj = float(model.cost @ sol_core)
                    if best is None or obj < best_obj - 1e-9:
                        best, best_obj = sol_core, obj
                    break
                add_rows(bad)
                from coalition.planner.greedy import repair

                fixed_plan = repair(model, sol_core)
                if _violated(model, fixed_plan, np.zeros(model.n_rows, bool)).size == 0:
                    obj = float(model.cost @ fixed_plan)
                    if best is None or obj < best_obj - 1e-9:
                        best, best_obj = fixed_plan, obj
                if status in (S.kInterrupt, S.kHighsInterrupt):
                    break
        finally:
            if fixed.size:
                h.changeColsBounds(int(fixed.size), fixed, ff.clo[fixed], ff.chi[fixed])
        return status

    if not proven:
        # small neighbourhood of the LP first (fast, good plans), then the full MIP
        # (large models: the full MIP's root LP alone outlasts any sensible limit, and its
        # bound would not beat the IPM bound, so the neighbourhood gets all the time)
        share = 1.0 if large else 0.2
        restricted_until = time.perf_counter() + share * max(0.0, deadline - time.perf_counter())
        ms = mip_pass(restricted_until, restricted=True)
        if not large and not (should_stop is not None and should_stop()):
            # no MIP start here: with one, highspy 1.16 can report a better objective than
            # the solution it returns (seen on a 16-column model); the incumbent is kept anyway
            h = new_instance(integer=True)
            ms = mip_pass(deadline, restricted=False, use_start=False)
    mip_rounds = counters["rounds"]
    nodes = counters["nodes"]
    elapsed = time.perf_counter() - t0
    obj = None if best is None else best_obj
    if bound is not None and obj is not None:
        bound = min(bound, obj)
    if ms == S.kOptimal and best is not None and _violated(model, best, np.zeros(model.n_rows, bool)).size == 0 and (
        relative_gap(obj, bound) or 0.0
    ) <= options.mip_rel_gap * 1.01:
        status = SolveStatus.OPTIMAL
    elif ms == S.kInfeasible:
        status = SolveStatus.INFEASIBLE
    elif best is None:
        status = SolveStatus.NO_SOLUTION
    elif ms in (S.kInterrupt, S.kHighsInterrupt) and should_stop is not None and should_stop():
        status = SolveStatus.INTERRUPTED
    elif ms in (S.kInterrupt, S.kHighsInterrupt):
        status = SolveStatus.TIME_LIMIT  # our wall-clock guard stopped it
    elif ms == S.kTimeLimit or time.perf_counter() >= deadline:
        status = SolveStatus.TIME_LIMIT
    else:
        status = SolveStatus.FEASIBLE
    out_of_time = None
    if status in (SolveStatus.TIME_LIMIT, SolveStatus.NO_SOLUTION) and not proven:
        out_of_time = "lp" if lp_ran_out else str(state["phase"])
    result = SolveResult(
        solver="highs",
        status=status,
        objective=obj,
        bound=bound,
        gap=relative_gap(obj, bound),
        time=round(elapsed, 4),
        nodes=nodes,
        bound_provenance=provenance if bound is not None else "none",
        phase_out_of_time=out_of_time,
        message=f"{h.modelStatusToString(ms)}; LP rounds {lp_rounds}, MIP rounds {mip_rounds}, "
        f"capacity rows passed {int((active & lazy).sum())} of {int(lazy.sum())}; "
        f"phases: LP {t_lp:.1f} s, rounding {t_round:.1f} s, MIP {elapsed - t_lp - t_round:.1f} s",
    )
    return Solution(result=result, values=best)
